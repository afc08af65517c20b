"""docs/troubleshooting.md shows every error message sfone raises, so the page cannot rot.

Every message template (the literal text of the first argument of ``FormatError(...)``,
``SchemaError(...)``, ``ProtocolError(...)``, ``quality_issue(...)`` and of the contract problems
``problems.append(...)``) in the modules listed below must appear in the page: each literal piece
of 8 or more characters between placeholders, whitespace-normalised. To cover more modules
(imaging, calorimetry loaders...), add their globs to ``DOCUMENTED``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "troubleshooting.md"
DOCUMENTED = (
    "sfone/io/photometry/*.py", "sfone/io/events/*.py", "sfone/io/netcdf.py", "sfone/cohort.py",
    "sfone/schema.py", "sfone/protocols.py", "sfone/io/_checks.py", "sfone/io/_registry.py",
    "sfone/io/_reading.py",
    "sfone/io/_write.py", "sfone/io/__init__.py", "sfone/io/_text.py", "sfone/io/imaging/*.py",
    "sfone/io/calorimetry/*.py", "sfone/calorimetry/*.py", "sfone/imaging.py", "sfone/io/_lazy.py",
    "sfone/io/_safe_pickle.py", "sfone/sampling.py", "sfone/_guard.py",
)
MESSAGE_CALLS = {"FormatError", "SchemaError", "ProtocolError", "quality_issue"}
MIN_FRAGMENT = 8


def _pieces(node: ast.AST) -> list[str]:
    """Literal text of a message expression; a placeholder separates pieces."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        out = [""]
        for value in node.values:
            if isinstance(value, ast.Constant):
                out[-1] += value.value
            else:
                out.append("")
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _pieces(node.left), _pieces(node.right)
        return left[:-1] + [left[-1] + right[0]] + right[1:]
    return ["", ""]  # any other expression is a placeholder


def _is_message_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name in MESSAGE_CALLS:
        return True
    return (name == "append" and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name) and func.value.id == "problems")


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def message_templates() -> list[tuple[str, int, list[str]]]:
    """(file, line, fragments that must be documented) for every message in DOCUMENTED."""
    found = []
    for pattern in DOCUMENTED:
        for path in sorted(ROOT.glob(pattern)):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if _is_message_call(node):
                    pieces = [_normalise(p) for p in _pieces(node.args[0])]
                    fragments = [p for p in pieces if len(p) >= MIN_FRAGMENT]
                    if not fragments and any(pieces):
                        fragments = [max(pieces, key=len)]
                    if fragments:
                        found.append((str(path.relative_to(ROOT)), node.lineno, fragments))
    return found


def test_the_extractor_finds_the_messages():
    templates = message_templates()
    assert len(templates) > 60
    assert any("changed while reading" in " ".join(f) for _, _, f in templates)


def test_every_error_message_is_in_troubleshooting_md():
    if not DOC.exists():
        pytest.fail("docs/troubleshooting.md is missing")
    doc = _normalise(DOC.read_text(encoding="utf-8").replace("`", ""))
    missing = [f"{file}:{line}: {fragment!r}" for file, line, fragments in message_templates()
               for fragment in fragments if fragment not in doc]
    assert missing == [], "messages not shown in docs/troubleshooting.md:\n" + "\n".join(missing)
