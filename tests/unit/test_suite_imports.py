"""No test module imports another test module or `tests.conftest`: helpers shared by tests
live in `tests/support/`, and conftest's fixtures reach tests through pytest alone. A test
module others import becomes a library nobody can change without breaking them, and any
`test_` name it hands over is collected again where it lands."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import REPOSITORY

TESTS = REPOSITORY / "tests"


def is_test_module(dotted: str) -> bool:
    return any(part == "conftest" or part.startswith("test_") for part in dotted.split("."))


def imported_modules(node: ast.stmt) -> list[str]:
    """The dotted names an import statement may load as modules (`from a import b` may load `a.b`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        return [module] + [f"{module}.{alias.name}" for alias in node.names]
    return []


def imports_of_test_modules(source: str) -> list[str]:
    """`line: statement` for each import of a test module or conftest in this source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if any(is_test_module(name) for name in imported_modules(node)):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def suite_files() -> list[pytest.param]:
    params = []
    for path in sorted(TESTS.rglob("test_*.py")):
        name = path.relative_to(REPOSITORY).as_posix()
        params.append(pytest.param(path, id=name))
    return params


@pytest.mark.parametrize("path", suite_files())
def test_no_test_module_imports_another_or_conftest(path: Path) -> None:
    name = path.relative_to(REPOSITORY)
    found = imports_of_test_modules(path.read_text())
    assert not found, f"{name} imports a test module; move what it needs to tests/support/:\n" + "\n".join(
        f"  {name}:{line}" for line in found
    )


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("from tests.conftest import Broker", True),
        ("import tests.conftest", True),
        ("from tests.integration.test_pipeline import wait_for", True),
        ("from tests.integration import test_pipeline", True),
        ("from .test_enrich import RECEIVED", True),
        ("from . import conftest", True),
        ("from tests.support.waiting import wait_for", False),
        ("from collector.enrich import normalise", False),
    ],
)
def test_the_rule_tells_test_modules_from_support(source: str, bad: bool) -> None:
    assert bool(imports_of_test_modules(source)) is bad
