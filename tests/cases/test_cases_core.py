"""The notification-record core is pure and every message it uses exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import kumin
from kumin.core.i18n import catalogue

SRC = Path(kumin.__file__).parent
MODULES = [
    "kumin.cases.dates",
    "kumin.cases.codes",
    "kumin.cases.profiles",
    "kumin.cases.parse",
    "kumin.cases.minimise",
    "kumin.synth.ward",
    "kumin.synth.cases",
]


def test_core_imports_no_database_or_web() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in MODULES)
        + "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'fastapi', 'starlette', 'psycopg', 'alembic') "
        "or m.startswith(('kumin.web', 'kumin.cli', 'kumin.core.db'))]\n"
        "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_message_key_used_exists_in_both_languages() -> None:
    used: set[str] = set()
    for module in MODULES:
        path = SRC.joinpath(*module.split(".")[1:]).with_suffix(".py")
        used |= set(re.findall(r"\"((?:cases|core)\.[a-z_]+\.[a-z_]+)\"", path.read_text("utf-8")))
    assert len(used) > 20
    for lang in ("ja", "en"):
        missing = sorted(k for k in used if k not in catalogue(lang))
        assert missing == [], (lang, missing)


def test_synth_reads_no_shared_data() -> None:
    source = (SRC / "synth" / "cases.py").read_text("utf-8")
    assert "open(" not in source.replace("with open(tmp", "")
    assert "read_table" not in source and "read_csv" not in source


def test_synth_needs_no_account(cli, tmp_path) -> None:
    out = tmp_path / "cases.csv"
    r = cli("synth", "cases", "--out", str(out), "--n", "25", "--encoding", "utf-8-sig")
    assert r.exit_code == 0, r.output
    assert len(out.read_text("utf-8-sig").splitlines()) == 26  # header and 25 records
