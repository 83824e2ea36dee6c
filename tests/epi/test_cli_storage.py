"""The epi commands read the imported records and audit the reading, on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import csv
import io

from kumin.synth.cases import synth_cases, write_cases_csv


def test_curve_reads_the_records_and_audits_once(cli, users, tmp_path):
    epi = users.by_role["epidemiologist"]
    path = write_cases_csv(synth_cases(seed=2, n=300), tmp_path / "cases.csv")
    assert cli("cases", "import", str(path), user=epi).exit_code == 0
    r = cli("epi", "curve", "--date", "report", "--freq", "week", "--format", "csv", user=epi)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    assert sum(int(x["cases"]) for x in rows) == 300  # every record has a result date

    from kumin.core import audit
    from kumin.core.db import session_scope

    with session_scope(cli.settings) as session:
        entries = audit.query(session, None, None, "epi.run", limit=50)
        found = [(e.object, e.purpose) for e in entries]
    assert found == [("cases", "epi curve")]


def test_empty_database_is_a_clean_error(cli, users):
    r = cli("epi", "curve", user=users.by_role["epidemiologist"])
    assert r.exit_code == 1 and "No notification records" in r.stderr
