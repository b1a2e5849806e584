"""A frozen dataclass with some fields changed, cheaply enough for the per-event path, where
`dataclasses.replace` is slow. The states copied here have no `__post_init__`, no init-only
fields and no cached properties, so copying the instance dictionary gives the same object."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def evolve(instance: T, **changes: Any) -> T:
    fields = instance.__dict__
    if not changes.keys() <= fields.keys():
        raise TypeError(f"{type(instance).__name__} has no field {', '.join(sorted(changes.keys() - fields.keys()))}")
    copy = object.__new__(type(instance))
    copy.__dict__.update(fields, **changes)
    return copy
