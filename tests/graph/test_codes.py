"""The catalogue of error codes is the one place codes are spelled, and ``docs/errors.md`` documents
exactly its codes."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from events_gateway.graph import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "events_gateway"
CATALOGUE = SRC / "graph" / "codes.py"
DOCS = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")

#: A table row that documents a code: ``| `CODE` | meaning | what to do |``.
_ROW = re.compile(r"^\| `([A-Z][A-Z_]+)` \|", re.MULTILINE)
#: Anything in backticks shaped like a code; environment variables are not codes.
_CODE_LIKE = re.compile(r"`([A-Z][A-Z]*_[A-Z_]+|[A-Z]{6,})`")


def test_each_code_is_its_own_name_with_a_meaning_and_a_message() -> None:
    assert len(ErrorCode) >= 19
    for code in ErrorCode:
        assert code == code.name == code.value
        assert code.meaning.strip(), code
        assert code.message.strip() == code.message != "", code


def test_the_docs_document_every_code_once_and_no_other() -> None:
    rows = _ROW.findall(DOCS)
    assert sorted(rows) == sorted(set(rows)), "a code is documented twice"
    missing = sorted(set(ErrorCode) - set(rows))
    assert missing == [], f"document these codes in docs/errors.md: {missing}"
    unknown = sorted(set(rows) - set(ErrorCode))
    assert unknown == [], f"docs/errors.md documents codes that do not exist: {unknown}"


def test_the_docs_mention_no_code_that_does_not_exist() -> None:
    mentioned = {name for name in _CODE_LIKE.findall(DOCS) if not name.startswith("EVENTS_")}
    assert sorted(mentioned - set(ErrorCode)) == []


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        if path != CATALOGUE:
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_no_module_spells_a_code_of_its_own() -> None:
    """Outside the catalogue, no string literal is a code, and no ``"code"`` entry or ``code=`` argument is
    given a literal: a new code has to be added to the catalogue (and so to the docs) to be used."""
    codes = {code.value for code in ErrorCode}
    found: list[str] = []
    for path, tree in _sources():
        where = path.relative_to(SRC)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in codes:
                found.append(f"{where}:{node.lineno} {node.value}")
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if _is_str(key, "code") and _is_str(value):
                        found.append(f"{where}:{node.lineno} 'code': {ast.unparse(value)}")
            elif isinstance(node, ast.keyword) and node.arg == "code" and _is_str(node.value):
                found.append(f"{where}:{node.value.lineno} code={ast.unparse(node.value)}")
    assert found == [], "use ErrorCode (graph/codes.py) instead: " + ", ".join(found)


def _is_str(node: ast.expr | None, value: str | None = None) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (value is None or node.value == value)
    )
