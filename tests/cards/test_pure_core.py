"""The card core stays free of database and web imports (STYLE.md, "pure core")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kumin

SRC = Path(kumin.__file__).parent
MODULES = [
    "cards/workflow.py",
    "cards/windows.py",
    "cards/records.py",
    "cards/figures.py",
    "cards/national.py",
    "cards/windows_io.py",
    "synth/cards.py",
]
FORBIDDEN = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "starlette",
    "jinja2",
    "httpx",
    "kumin.web",
    "kumin.cli",
    "kumin.core.db",
)


@pytest.mark.parametrize("module", MODULES)
def test_no_database_or_web_imports(module):
    tree = ast.parse((SRC / module).read_text("utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    assert names, module
    bad = [n for n in names if n.startswith(FORBIDDEN)]
    assert not bad, f"{module} imports {bad}"
