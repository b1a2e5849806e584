"""The condition language shared by segment rules and funnel step filters: a comparison
`{field, op, value}` or a nesting `{all = [...]}` / `{any = [...]}`, parsed once from the
config and matched as one function. What a field means is the caller's business; an
absent field satisfies no comparison except `exists`."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Union

import orjson

ORDERINGS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
ORDERED_OPS = tuple(ORDERINGS)
OPS = ("eq", "ne", *ORDERED_OPS, "in", "contains", "exists")


class RuleError(ValueError):
    """A condition that cannot be parsed; the message names where and what."""


@dataclass(frozen=True)
class Condition:
    """One comparison of a field's value: `{field, op, value}`."""

    field: str
    op: str
    value: Any = True


@dataclass(frozen=True)
class All:
    """A condition that holds when all of its parts do."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    """A condition that holds when any of its parts does."""

    parts: tuple[Node, ...]


Node = Union[Condition, All, Any_]
Lookup = Callable[[str], Any]
Test = Callable[[Any], bool]  # a comparison applied to a field's value
Predicate = Callable[[Lookup], bool]  # a whole condition applied to a record's fields


def parse(raw: Any, known: Callable[[str], bool], where: str = "rule") -> Node:
    """A condition tree from its config form; RuleError names the bad part by its path."""
    if not isinstance(raw, Mapping):
        raise RuleError(f"{where}: expected a table with field/op/value, all or any, got {raw!r}")
    nestings = [key for key in ("all", "any") if key in raw]
    if nestings:
        if len(nestings) > 1 or "field" in raw:
            raise RuleError(f"{where}: give one of field, all or any, not several")
        key = nestings[0]
        parts = raw[key]
        if not isinstance(parts, list) or not parts:
            raise RuleError(f"{where}.{key}: expected a non-empty list of conditions")
        nodes = tuple(parse(part, known, f"{where}.{key}[{i}]") for i, part in enumerate(parts))
        return All(nodes) if key == "all" else Any_(nodes)
    return _comparison(raw, known, where)


SYMBOLS = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "in", "contains": "contains"}


def describe(raw: Mapping[str, Any], nested: bool = False) -> str:
    """A condition's config form (already parsed, so valid) as one line people read, as
    written rather than as rewritten for matching: `revenue >= 500 and (a = 1 or b = 2)`."""
    for key, joiner in (("all", " and "), ("any", " or ")):
        if key in raw:
            text = joiner.join(describe(part, nested=True) for part in raw[key])
            return f"({text})" if nested and len(raw[key]) > 1 else text
    field, op = raw["field"], raw["op"]
    if op == "exists":
        return f"{field} exists" if raw.get("value", True) else f"{field} does not exist"
    return f"{field} {SYMBOLS[op]} {orjson.dumps(raw['value']).decode()}"


def _comparison(raw: Mapping[str, Any], known: Callable[[str], bool], where: str) -> Condition:
    unexpected = sorted(set(raw) - {"field", "op", "value"})
    if unexpected:
        raise RuleError(f"{where}: unknown key {', '.join(unexpected)} (expected field, op, value, all or any)")
    field, op = raw.get("field"), raw.get("op")
    if not isinstance(field, str) or not field:
        raise RuleError(f"{where}: field is required")
    if not known(field):
        raise RuleError(f"{where}: unknown field {field!r}")
    if op not in OPS:
        raise RuleError(f"{where}: field {field!r} has unknown op {op!r} (ops: {', '.join(OPS)})")
    if op == "exists":
        value = raw.get("value", True)
        if not isinstance(value, bool):
            raise RuleError(f"{where}: field {field!r} op 'exists' takes true or false, got {value!r}")
        return Condition(field, op, value)
    if "value" not in raw:
        raise RuleError(f"{where}: field {field!r} op {op!r} needs a value")
    value = raw["value"]
    if op in ORDERED_OPS and not (_is_number(value) or isinstance(value, str)):
        raise RuleError(f"{where}: field {field!r} op {op!r} compares with a number or a string, got {value!r}")
    if op == "in":
        if not isinstance(value, list):
            raise RuleError(f"{where}: field {field!r} op 'in' takes a list, got {value!r}")
        value = tuple(value)
    return Condition(field, op, value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not (
        isinstance(value, float) and math.isnan(value)
    )


def _equal(a: Any, b: Any) -> bool:
    """Equality that does not let True equal 1: a boolean trait is not a count."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    if isinstance(container, Mapping):
        return item in container
    if isinstance(container, (list, tuple, set, frozenset)):
        return any(_equal(member, item) for member in container)
    return False


def comparer(condition: Condition) -> Test:
    """Whether a field's value satisfies one comparison, as a function chosen once per
    condition: a rule is parsed once and then matched against every event or profile."""
    op, value = condition.op, condition.value
    if op == "exists":
        return lambda actual: (actual is not None) == value
    if op == "eq":
        return lambda actual: actual is not None and _equal(actual, value)
    if op == "ne":
        return lambda actual: actual is not None and not _equal(actual, value)
    if op == "in":
        return lambda actual: actual is not None and any(_equal(actual, option) for option in value)
    if op == "contains":
        return lambda actual: actual is not None and _contains(actual, value)
    # Ordered: numbers with numbers, text with text; anything else (a missing field
    # included) is not comparable and satisfies nothing.
    order = ORDERINGS[op]
    if _is_number(value):
        return lambda actual: _is_number(actual) and order(actual, value)
    if isinstance(value, str):
        return lambda actual: isinstance(actual, str) and order(actual, value)
    return lambda actual: False


def compile_rule(node: Node) -> Predicate:
    """A condition tree as one function of a lookup, its ops and nesting resolved once."""
    if isinstance(node, Condition):
        name, test = node.field, comparer(node)
        return lambda lookup: test(lookup(name))
    parts = tuple(compile_rule(part) for part in node.parts)

    def every(lookup: Lookup) -> bool:
        for part in parts:
            if not part(lookup):
                return False
        return True

    def some(lookup: Lookup) -> bool:
        for part in parts:
            if part(lookup):
                return True
        return False

    return every if isinstance(node, All) else some


def comparisons(node: Node) -> Iterator[Condition]:
    """Every comparison in a tree, wherever it is nested."""
    if isinstance(node, Condition):
        yield node
    else:
        for part in node.parts:
            yield from comparisons(part)


def rewrite(node: Node, change: Callable[[Condition], Condition]) -> Node:
    """The same tree with every comparison passed through `change`."""
    if isinstance(node, Condition):
        return change(node)
    return replace(node, parts=tuple(rewrite(part, change) for part in node.parts))


def dotted(data: Mapping[str, Any], path: str) -> Any:
    """A value inside nested mappings by a dotted path, None where any part is missing."""
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
