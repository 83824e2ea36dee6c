"""The numerical cores never import a database, web or CLI module."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = (
    "sqlalchemy",
    "fastapi",
    "starlette",
    "psycopg",
    "typer",
    "kumin.web",
    "kumin.cli",
    "kumin.db",
)


def test_resources_and_synth_import_no_database_or_web_code():
    code = (
        "import sys\n"
        "import kumin.resources.queueing, kumin.resources.calls, kumin.resources.staffing\n"
        "import kumin.resources.continuity, kumin.resources.profiles, kumin.synth.resources\n"
        "import kumin.resources.intraday, kumin.resources.calibration, kumin.resources.backtest\n"
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
