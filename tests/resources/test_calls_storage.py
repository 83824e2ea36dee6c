"""Call-centre records in the database: all-or-nothing imports, idempotent
re-imports, the Tokyo profile, and the ``kumin calls`` commands (both backends)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from tests.conftest import actor_for

from kumin.core import audit
from kumin.core.context import context
from kumin.errors import DataError
from kumin.resources import service, service_plan
from kumin.resources.models import CallDay
from kumin.resources.queueing import min_agents

HEADER = "date,calls_received,calls_answered,staff_regular,staff_external,staffed_hours"


def _count(settings) -> int:
    from kumin.core.db import session_scope

    with session_scope(settings) as s:
        return s.scalar(select(func.count()).select_from(CallDay))


def test_import_is_all_or_nothing_with_line_numbers(cli, users, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "\n".join(
            [
                HEADER,
                "2020-04-01,120,100,4,2,9",
                "2020-04-02,abc,100,4,2,9",  # line 3: not a number
                "2020-04-03,90,95,4,2,9",  # line 4: answered > received
                "2020-04-01,80,70,4,2,9",  # line 5: duplicate date
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    r = cli("calls", "import", str(bad), user=users.by_role["epidemiologist"])
    assert r.exit_code == 1
    assert "bad.csv" in r.stderr
    for line in (3, 4, 5):
        assert f"line {line}" in r.stderr.lower(), r.stderr
    assert _count(users.settings) == 0


def test_missing_columns_are_named_with_the_file(cli, users, tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("date,calls_received\n2020-04-01,3\n", encoding="utf-8")
    r = cli("calls", "import", str(path), user=users.by_role["epidemiologist"])
    assert r.exit_code == 1
    assert "few.csv" in r.stderr and "staff_external" in r.stderr
    assert _count(users.settings) == 0


def test_reimport_changes_nothing_and_updates_a_changed_day(users, calls_csv, calls_frame):
    settings = users.settings
    epi = actor_for(users, "epidemiologist")
    with context(settings, epi) as ctx:
        first = service.import_calls(ctx, calls_csv)
    assert (first.inserted, first.updated, first.unchanged) == (calls_frame.height, 0, 0)
    with context(settings, epi) as ctx:
        again = service.import_calls(ctx, calls_csv)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, calls_frame.height)
    # One day corrected in the office's file: only that day changes.
    lines = calls_csv.read_text("utf-8-sig").splitlines()
    cells = lines[5].split(",")
    cells[2] = str(int(cells[2]) - 1)  # one call fewer answered
    lines[5] = ",".join(cells)
    calls_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with context(settings, epi) as ctx:
        fixed = service.import_calls(ctx, calls_csv)
    assert (fixed.inserted, fixed.updated) == (0, 1)
    assert fixed.changed == [cells[0]]
    assert _count(settings) == calls_frame.height
    with context(settings, epi) as ctx:
        entries = audit.as_rows(audit.query(ctx.session, action="calls.import"))
        stored = ctx.session.scalar(
            select(CallDay.calls_answered).where(CallDay.date == dt.date.fromisoformat(cells[0]))
        )
    assert [e["details"]["updated"] for e in entries] == [0, 0, 1]
    assert entries[-1]["details"]["changed_dates"] == [cells[0]]
    assert entries[-1]["object"] == "centre:ward"
    assert stored == int(cells[2])


def test_cp932_file_with_japanese_headers(cli, users, tmp_path):
    path = tmp_path / "日報.csv"
    text = "日付,受電件数,応答件数,職員数,外部人材数,稼働時間\r\n2020-04-01,120,100,4,2,9\r\n"
    path.write_bytes(text.encode("cp932"))
    r = cli(
        "calls", "import", str(path), "--encoding", "cp932", "--centre", "区センター",
        user=users.by_role["epidemiologist"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "1 new" in r.stdout
    assert _count(users.settings) == 1


TOKYO = {
    "tokyo_call_center_daily.csv": ("tokyo_call_centre", 601, 424_680),
    "tokyo_7119_fever_consultation_calls_daily.csv": ("tokyo_7119_fever_line", 788, 58_891),
    "tokyo_combined_telephone_advice_center_daily.csv": (
        "tokyo_returnee_contact_centre",
        154,
        None,
    ),
}


@pytest.mark.realdata
def test_tokyo_profile_imports_each_centre_beside_the_ward(cli, users, shared_data, calls_csv):
    epi = users.by_role["epidemiologist"]
    assert cli("calls", "import", str(calls_csv), user=epi).exit_code == 0
    for name in TOKYO:
        r = cli(
            "calls",
            "import",
            str(shared_data / "tokyo" / name),
            "--profile",
            "tokyo_calls",
            user=epi,
        )
        assert r.exit_code == 0, r.output
    r = cli("calls", "summary", "--format", "json", user=epi)
    assert r.exit_code == 0, r.output
    found = {c["centre"]: c for c in json.loads(r.stdout)}
    assert set(found) == {"ward", *(c for c, _, _ in TOKYO.values())}
    for centre, days, total in TOKYO.values():
        assert found[centre]["days"] == days
        if total is not None:
            assert found[centre]["calls_received"] == total
        # Demand only: no staffing, so no answer rate or staff effect, and why.
        assert found[centre]["answer_rate"] is None
        assert found[centre]["staff_effect"] is None
        assert found[centre]["staff_effect_note"] == "resources.calls.no_staffing"
    assert found["ward"]["staff_effect"]["calls_per_added_person"] is not None


def test_summary_figures_match_the_core(cli, users, calls_csv, calls_frame):
    epi = users.by_role["epidemiologist"]
    assert cli("calls", "import", str(calls_csv), user=epi).exit_code == 0
    r = cli(
        "calls",
        "summary",
        "--from",
        "2020-04-01",
        "--to",
        "2020-04-30",
        "--format",
        "json",
        user=epi,
    )
    assert r.exit_code == 0, r.output
    (ward,) = json.loads(r.stdout)
    april = calls_frame.filter(calls_frame["date"].dt.month() == 4)
    assert ward["days"] == 30
    assert ward["calls_received"] == april["calls_received"].sum()
    assert ward["answer_rate"] == pytest.approx(
        april["calls_answered"].sum() / april["calls_received"].sum()
    )
    assert ward["cost_per_answered_call"] == pytest.approx(
        april["cost_yen"].sum() / april["calls_answered"].sum()
    )
    effect = ward["staff_effect"]
    assert effect["low"] <= effect["calls_per_added_person"] <= effect["high"]
    assert ward["lead_lag"] is None and ward["lead_lag_note"] == "resources.calls.no_cases"
    table = cli("calls", "summary", "--format", "csv", user=epi)
    assert "calls_per_added_person" in table.stdout and "answer_rate" in table.stdout


def test_staffing_json_keys_are_exact(cli, users):
    r = cli(
        "calls", "staffing", "--arrivals-per-hour", "200", "--handle-seconds", "180",
        "--answer-within", "20", "--service-level", "0.8", "--format", "json",
        user=users.by_role["auditor"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    # Every figure computed, and every setting it rests on (stated defaults:
    # shrinkage 30 %, occupancy at most 85 %).
    assert tuple(body) == service_plan.STAFFING_KEYS
    expected = min_agents(200, 180, 20, 0.8, max_occupancy=0.85)
    assert body["agents"] == expected.agents == 14
    assert body["scheduled_agents"] == 20  # ceil(14 / 0.7)
    assert body["model"] == "erlang_c" and body["shrinkage"] == 0.3
    assert body["max_occupancy"] == 0.85
    for key in ("service_level", "occupancy", "probability_wait", "mean_wait_seconds"):
        assert body[key] == pytest.approx(getattr(expected, key))
    assert body["abandonment_probability"] == 0.0 and body["offered_load"] == 10.0


def test_staffing_rejects_a_bad_target_in_one_line(cli, users):
    r = cli(
        "calls", "staffing", "--arrivals-per-hour", "200", "--handle-seconds", "180",
        "--answer-within", "20", "--service-level", "1.5", user=users.by_role["epidemiologist"],
    )  # fmt: skip
    assert r.exit_code == 1
    assert "service_level" in r.stderr and "Got 1.5 instead" in r.stderr


def test_plan_against_deployed_staff(cli, users, calls_csv, tmp_path):
    epi = users.by_role["epidemiologist"]
    assert cli("calls", "import", str(calls_csv), user=epi).exit_code == 0
    r = cli(
        "calls", "plan", "--from", "2020-03-01", "--to", "2020-03-31", "--format", "json", user=epi
    )
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    totals, days = body["totals"], body["by_day"]
    assert totals["days"] == len(days) == 31
    assert totals["days_under"] == sum(d["status"] == "under" for d in days)
    assert totals["days_over"] == sum(d["status"] == "over" for d in days)
    assert totals["days_under"] > 0  # the first wave outran the staff
    # Every figure the plan rests on travels with it.
    settings = totals["settings"]
    assert settings["model"] == "erlang_a" and settings["shrinkage"] == 0.3
    assert settings["occupancy_cap"] == 0.85 and settings["handle_seconds_per_day"]
    assert settings["profile"]["interval_minutes"] == 60
    assert totals["patience_fit"]["patience_seconds"] == totals["patience_seconds"] > 0
    assert totals["external_cost_needed_yen"] == 26_100 * totals["external_person_days_needed"]
    weekly = cli(
        "calls", "plan", "--from", "2020-03-02", "--to", "2020-03-15", "--by", "week",
        "--interval", "30", "--format", "json", user=epi,
    )  # fmt: skip
    assert weekly.exit_code == 0, weekly.output
    weeks = json.loads(weekly.stdout)["by_week"]
    assert [w["days"] for w in weeks] == [7, 7]
    # A forecast file: date,calls for days beyond the records (no staff known there).
    forecast = tmp_path / "forecast.csv"
    forecast.write_text("date,calls\n2020-07-01,300\n2020-07-02,450\n", encoding="utf-8")
    out = tmp_path / "plan.csv"
    r = cli(
        "calls",
        "plan",
        "--forecast",
        str(forecast),
        "--by",
        "hour",
        "--format",
        "csv",
        "--out",
        str(out),
        user=epi,
    )
    assert r.exit_code == 0, r.output
    rows = out.read_text("utf-8-sig").splitlines()
    assert rows[0].startswith("date,weekday,start,hour,calls") and len(rows) == 1 + 2 * 9


def test_plan_names_the_forecast_file_when_it_is_wrong(cli, users, tmp_path):
    bad = tmp_path / "forecast.csv"
    bad.write_text("day,calls\n2020-07-01,300\n", encoding="utf-8")
    r = cli(
        "calls",
        "plan",
        "--forecast",
        str(bad),
        "--handle-seconds",
        "300",
        user=users.by_role["epidemiologist"],
    )
    assert r.exit_code == 1
    assert "forecast.csv" in r.stderr and "date" in r.stderr


def test_case_counts_are_empty_without_notification_records(epi_ctx):
    counts = service.case_counts(epi_ctx)
    assert counts.height == 0 and counts.columns == ["date", "cases"]


def test_data_error_keeps_every_problem(epi_ctx, tmp_path):
    path = tmp_path / "two.csv"
    path.write_text(HEADER + "\n2020-04-01,-1,0,4,2,9\n2020-04-02,5,0,4,2,99\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        service.import_calls(epi_ctx, path)
    assert [(p.line, p.column) for p in info.value.problems] == [
        (2, "calls_received"),
        (3, "staffed_hours"),
    ]


def test_history_per_month(cli, users, calls_csv, calls_frame):
    epi = users.by_role["epidemiologist"]
    assert cli("calls", "import", str(calls_csv), user=epi).exit_code == 0
    r = cli("calls", "history", "--by", "month", "--format", "json", user=epi)
    assert r.exit_code == 0, r.output
    months = json.loads(r.stdout)
    assert [m["days"] for m in months] == [31, 30, 31, 30]  # March to June 2020
    assert sum(m["offered"] for m in months) == calls_frame["calls_received"].sum()
    assert sum(m["abandoned"] for m in months) == calls_frame["calls_abandoned"].sum()
    for m in months:
        assert 0 <= m["service_level_model"] <= 1 and 0 <= m["answer_rate"] <= 1
        assert m["cost_per_answered_call"] > 0
    bad = cli("calls", "history", "--by", "year", user=epi)
    assert bad.exit_code == 1 and "year" in bad.stderr
