"""Monthly service counts in the database and ``kumin continuity`` (both backends)."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from tests.conftest import actor_for

from kumin.core import audit
from kumin.core.context import context
from kumin.core.db import session_scope
from kumin.resources import service_continuity
from kumin.resources.continuity import assess_continuity
from kumin.resources.models import ServiceMonth


def _stored(settings) -> int:
    with session_scope(settings) as s:
        return s.scalar(select(func.count()).select_from(ServiceMonth))


def test_assess_a_file_without_storing_it(cli, users, counts_csv, counts_frame):
    r = cli(
        "continuity", "assess", str(counts_csv), "--baseline-end", "2020-02", "--format", "json",
        user=users.by_role["auditor"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    expected = assess_continuity(counts_frame, "2020-02")
    assert body["baseline_end"] == "2020-02"
    assert {v["service"]: v["verdict"] for v in body["verdicts"]} == {
        v.service: v.verdict for v in expected.verdicts
    }
    verdicts = {v["service"]: v for v in body["verdicts"]}
    # The synthetic contact examinations fall to ~35-45 % in April-May 2020.
    assert verdicts["tb_contact_examinations"]["verdict"] == "disrupted"
    assert {"2020-04", "2020-05"} <= set(verdicts["tb_contact_examinations"]["disrupted_months"])
    assert len(body["months"]) == 3 * 16  # three services, 2020-03 .. 2021-06
    assert _stored(users.settings) == 0


def test_import_then_assess_what_was_imported(cli, users, counts_csv, counts_frame):
    epi = users.by_role["epidemiologist"]
    r = cli("continuity", "import", str(counts_csv), user=epi)
    assert r.exit_code == 0, r.output
    assert f"{counts_frame.height} new" in r.stdout
    again = cli("continuity", "import", str(counts_csv), user=epi)
    assert f"{counts_frame.height} unchanged" in again.stdout
    assert _stored(users.settings) == counts_frame.height
    stored = cli("continuity", "assess", "--baseline-end", "2020-02", "--format", "json", user=epi)
    from_file = cli(
        "continuity", "assess", str(counts_csv), "--baseline-end", "2020-02", "--format", "json",
        user=epi,
    )  # fmt: skip
    assert stored.exit_code == 0, stored.output
    assert json.loads(stored.stdout) == json.loads(from_file.stdout)
    table = cli("continuity", "assess", "--baseline-end", "2020-02", "--format", "csv", user=epi)
    header, *rows = table.stdout.splitlines()
    assert header.startswith("service,verdict,disrupted_months,shortfall")
    assert len(rows) == 3 and any(",disrupted," in r for r in rows)


def test_reimport_updates_a_corrected_month_and_audits_it(users, counts_csv):
    epi = actor_for(users, "epidemiologist")
    with context(users.settings, epi) as ctx:
        service_continuity.import_service_counts(ctx, counts_csv)
    lines = counts_csv.read_text("utf-8-sig").splitlines()
    service, month, count = lines[1].split(",")
    lines[1] = f"{service},{month},{int(count) + 5}"
    counts_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with context(users.settings, epi) as ctx:
        result = service_continuity.import_service_counts(ctx, counts_csv)
        entries = audit.as_rows(audit.query(ctx.session, action="continuity.import"))
        frame = service_continuity.service_counts_frame(ctx)
    assert (result.inserted, result.updated) == (0, 1)
    assert result.changed == [f"{service}:{month}"]
    assert entries[-1]["details"]["changed"] == [f"{service}:{month}"]
    assert frame.filter(frame["service"] == service)["count"][0] == int(count) + 5


def test_bad_months_are_reported_with_lines_and_nothing_is_saved(cli, users, tmp_path):
    path = tmp_path / "counts.csv"
    path.write_text(
        "service,month,count\nbcg,2019-01,500\nbcg,2019-13,480\nbcg,2019-02,-3\n", encoding="utf-8"
    )
    r = cli("continuity", "import", str(path), user=users.by_role["epidemiologist"])
    assert r.exit_code == 1
    assert "line 3" in r.stderr.lower() and "line 4" in r.stderr.lower()
    assert _stored(users.settings) == 0


def test_assess_without_counts_says_what_to_do(cli, users):
    r = cli(
        "continuity", "assess", "--baseline-end", "2020-02", user=users.by_role["epidemiologist"]
    )
    assert r.exit_code == 1
    assert "kumin continuity import" in r.stderr


def test_xlsx_with_japanese_headers(cli, users, tmp_path, counts_frame):
    import openpyxl

    path = tmp_path / "件数.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["事業", "年月", "件数"])
    for service, month, count in counts_frame.iter_rows():
        sheet.append([service, f"{month.year}年{month.month}月", count])
    book.save(path)
    r = cli("continuity", "import", str(path), user=users.by_role["epidemiologist"])
    assert r.exit_code == 0, r.output
    assert _stored(users.settings) == counts_frame.height
