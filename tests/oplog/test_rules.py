"""Each rule fires on its case and stays quiet on the legitimate twin."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.oplog._ward import make_events, ward_context

from kumin.oplog.context import ChecklistEntry, Thresholds
from kumin.oplog.rules import prepare_events
from kumin.oplog.scan import RULES, scan


def run(rule, rows, context=None):
    context = context or ward_context()
    return RULES[rule](prepare_events(make_events(rows), context), context)


def session(day, start, terminal, op, subjects, function, step_min=2, action="view"):
    t = dt.datetime.fromisoformat(f"{day} {start}")
    rows = []
    for k, s in enumerate(subjects):
        ts = t + dt.timedelta(minutes=step_min * k)
        rows.append((ts.isoformat(sep=" "), terminal, op, action, s, function))
    return rows


# ------------------------------------------------------------ operator ledger


def test_removed_operator_fires_after_transfer_but_not_before():
    rows = session("2022-05-10", "10:00", "T0101", "U2", ["R1", "R2"], "住民票")
    (alert,) = run("unlisted_operator", rows)
    assert alert.reason == "removed" and alert.evidence["removed_on"] == "2022-04-01"
    assert alert.operator_id == "U2" and alert.department == "D01"
    assert [e["line"] for e in alert.events] == [2, 3]
    assert (
        run("unlisted_operator", session("2021-06-01", "10:00", "T0101", "U2", ["R1"], "住民票"))
        == []
    )


def test_never_listed_operator_fires_once_per_incident():
    rows = session("2021-06-01", "10:00", "T0101", "U99", [f"R{i}" for i in range(1, 9)], "住民票")
    (alert,) = run("unlisted_operator", rows)
    assert alert.reason == "never_listed" and len(alert.events) == 8


def test_operator_of_another_department_on_a_non_shared_terminal_fires():
    rows = session("2021-06-01", "10:00", "T0101", "U8", ["R1"], "住民税")
    (alert,) = run("unlisted_operator", rows)
    assert alert.reason == "other_department" and alert.evidence["listed_in"] == "D08"
    # the twin: the same operator on the shared terminal is judged by the reservation rule
    assert (
        run("unlisted_operator", session("2021-06-01", "13:30", "S01", "U8", ["R1"], "住民税"))
        == []
    )


# ---------------------------------------------------------------- reservations


def test_shared_terminal_outside_reservation_fires_and_inside_is_quiet():
    outside = session("2021-06-01", "16:00", "S01", "U8", ["R1", "R2"], "住民税")
    (alert,) = run("outside_reservation", outside)
    assert alert.reason == "outside_slot" and alert.terminal_id == "S01"
    inside = session("2021-06-01", "13:30", "S01", "U8", ["R1", "R2"], "住民税")
    assert run("outside_reservation", inside) == []
    other_day = session("2021-06-02", "13:30", "S01", "U8", ["R1"], "住民税")
    assert run("outside_reservation", other_day)[0].reason == "no_reservation"


def test_the_terminal_departments_own_staff_need_no_reservation():
    assert (
        run("outside_reservation", session("2021-06-02", "10:00", "S01", "U1", ["R1"], "住民票"))
        == []
    )


# ------------------------------------------------------------------- hours


@pytest.mark.parametrize(
    ("day", "time", "kind"),
    [
        ("2021-06-01", "22:30", "night"),
        ("2021-06-01", "07:10", "night"),
        ("2021-06-05", "10:00", "weekend"),  # a Saturday
        ("2021-07-22", "10:00", "holiday"),  # 海の日 (moved for the Olympics)
        ("2021-12-29", "10:00", "holiday"),  # year-end closure
    ],
)
def test_off_hours_fires(day, time, kind):
    (alert,) = run("off_hours", session(day, time, "T0101", "U1", ["R1", "R2"], "住民票"))
    assert alert.reason == kind


@pytest.mark.parametrize(
    ("day", "time", "op", "terminal"),
    [
        ("2021-06-01", "18:40", "U1", "T0101"),  # overtime inside the grace
        ("2021-06-01", "08:10", "U1", "T0101"),  # early start inside the grace
        ("2021-06-05", "10:00", "U20", "T0201"),  # a department open on weekends
    ],
)
def test_off_hours_quiet_on_the_twin(day, time, op, terminal):
    assert run("off_hours", session(day, time, terminal, op, ["R1"], "カード交付")) == []


def test_year_end_closure_can_be_switched_off():
    ctx = ward_context(thresholds=Thresholds(year_end_closure=False))
    rows = session("2021-12-28", "10:00", "T0101", "U1", ["R1"], "住民票")
    assert run("off_hours", rows, ctx) == []
    assert (
        run("off_hours", session("2021-12-29", "10:00", "T0101", "U1", ["R1"], "住民票"), ctx) == []
    )


# ------------------------------------------------------------ applications


def test_function_without_application_fires_and_approved_is_quiet():
    (alert,) = run(
        "unapproved_function",
        session("2021-06-01", "10:00", "T0801", "U8", ["R1", "R2"], "生活保護"),
    )
    assert alert.reason == "never" and alert.evidence["function"] == "生活保護"
    assert len(alert.events) == 2
    assert (
        run("unapproved_function", session("2021-06-01", "10:00", "T0801", "U8", ["R1"], "住民税"))
        == []
    )


def test_expired_application_fires_only_after_it_ends():
    assert (
        run(
            "unapproved_function", session("2021-09-30", "10:00", "T0801", "U8", ["R1"], "福祉資金")
        )
        == []
    )
    (alert,) = run(
        "unapproved_function", session("2021-10-01", "10:00", "T0801", "U8", ["R1"], "福祉資金")
    )
    assert alert.reason == "expired" and alert.evidence["valid_to"] == "2021-09-30"


# ----------------------------------------------------------- shared credentials


def test_one_operator_on_two_terminals_at_once_fires():
    rows = session(
        "2021-06-01", "10:00", "T0101", "U1", [f"R{i}" for i in range(1, 8)], "住民票", 5
    )
    rows += session("2021-06-01", "10:12", "T0102", "U1", ["R10", "R11"], "住民票", 4)
    (alert,) = run("shared_credentials", sorted(rows))
    assert set(alert.evidence["terminals"].split(", ")) == {"T0101", "T0102"}
    assert len(alert.events) == 9


def test_moving_from_one_terminal_to_another_is_quiet():
    rows = session("2021-06-01", "10:00", "T0101", "U1", ["R1", "R2", "R3"], "住民票", 5)
    rows += session("2021-06-01", "10:20", "T0102", "U1", ["R4", "R5"], "住民票", 5)
    assert run("shared_credentials", sorted(rows)) == []


# ------------------------------------------------------------------- volume


def _days(n, start=dt.date(2021, 6, 1)):
    out, day = [], start
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day.isoformat())
        day += dt.timedelta(days=1)
    return out


def _volume_rows(spike: int, peers_spike: bool = False):
    rows = []
    days = _days(20)
    for op in ("U1", "U2", "U3"):
        for k, day in enumerate(days):
            n = 10 + (k % 3)
            if day == days[12] and (op == "U1" or peers_spike):
                n = spike
            rows += session(day, "09:00", "T0101", op, [f"R{i}" for i in range(n)], "住民票", 1)
    return sorted(rows), days[12]


def test_volume_far_above_own_and_peer_baseline_fires():
    rows, day = _volume_rows(200)
    (alert,) = run("volume_spike", rows)
    assert alert.operator_id == "U1" and alert.evidence["day"] == day
    assert alert.evidence["lookups"] == 200 and alert.evidence["own_median"] == 11


def test_volume_quiet_when_everyone_is_busy_or_the_rise_is_small():
    rows, _ = _volume_rows(60, peers_spike=True)  # a department-wide month-end peak
    assert run("volume_spike", rows) == []
    rows, _ = _volume_rows(25)
    assert run("volume_spike", rows) == []


# -------------------------------------------------------- business records


def test_resident_looked_up_by_three_departments_without_records_fires():
    rows = session("2021-06-01", "10:00", "T0101", "U1", ["R500"], "住民票")
    rows += session("2021-06-03", "10:00", "T0801", "U8", ["R500"], "住民税")
    rows += session("2021-06-07", "11:00", "T0201", "U20", ["R500"], "カード交付")
    (alert,) = run("no_business_record", sorted(rows))
    assert alert.reason == "departments" and alert.subject == "R500"
    assert alert.evidence["department_count"] == 3


def test_the_same_lookups_with_business_records_are_quiet():
    rows = session("2021-06-01", "10:00", "T0101", "U1", ["R5"], "住民票")
    rows += session("2021-06-03", "10:00", "T0801", "U8", ["R5"], "住民税")
    rows += session("2021-06-07", "11:00", "T0201", "U20", ["R5"], "カード交付")
    rows += session("2021-06-09", "11:00", "T0201", "U1", ["R5"], "住民票")
    assert run("no_business_record", sorted(rows)) == []


def test_repeated_lookups_by_one_operator_without_records_fire():
    # the 2022 case: a name search and a view for a colleague, then a second look
    rows = session("2021-06-01", "12:15", "T0101", "U1", ["R600"], "住民票", action="search")
    rows += session("2021-06-01", "12:16", "T0101", "U1", ["R600"], "住民票")
    rows += session("2021-06-04", "12:20", "T0101", "U1", ["R600"], "住民票")
    (alert,) = run("no_business_record", rows)
    assert alert.reason == "repeated" and alert.operator_id == "U1"
    assert alert.evidence["occasions"] == 2 and alert.evidence["lookups"] == 3


def test_a_single_unexplained_occasion_is_quiet_by_default_but_not_in_full_matching():
    rows = session("2021-06-01", "12:15", "T0101", "U1", ["R600", "R600"], "住民票")
    assert run("no_business_record", rows) == []
    full = ward_context(thresholds=Thresholds(repeat_min_occasions=1))
    assert len(run("no_business_record", rows, full)) == 1


# -------------------------------------------------------- watch list, checklist


def test_watch_list_lookup_fires_and_others_are_quiet():
    rows = session("2021-06-01", "10:00", "T0101", "U1", ["R1", "R900", "R2"], "住民票")
    (alert,) = run("watch_list", rows)
    assert alert.subject == "R900" and alert.evidence["reason"] == "DV等支援措置対象者"
    assert [e["line"] for e in alert.events] == [3]


def test_unsecured_terminal_fires_with_the_days_events_and_secured_is_quiet():
    rows = session("2021-06-01", "10:00", "T0101", "U1", ["R1", "R2"], "住民票")
    rows += session("2021-06-01", "10:00", "T0102", "U3", ["R3"], "住民票")
    flagged = ward_context(
        checklist=(
            ChecklistEntry("T0101", dt.date(2021, 6, 1), False),
            ChecklistEntry("T0101", dt.date(2021, 6, 4), False),
            ChecklistEntry("T0101", dt.date(2021, 6, 7), True),
        )
    )
    (alert,) = run("unsecured_terminal", sorted(rows), flagged)
    assert alert.terminal_id == "T0101" and alert.evidence["days"] == 2
    assert alert.evidence["to_day"] == "2021-06-04" and alert.evidence["lines"] == 2
    assert run("unsecured_terminal", rows) == []


# ----------------------------------------------------------------- the scan


def test_scan_runs_every_rule_in_a_window_and_orders_by_severity():
    rows = session("2021-06-01", "22:30", "T0101", "U99", ["R900"], "住民票")
    rows += session("2021-06-10", "22:30", "T0101", "U1", ["R1"], "住民票")
    seen = []
    alerts = scan(make_events(sorted(rows)), ward_context(), on_rule=lambda n, k: seen.append(n))
    assert seen == list(RULES)
    assert {a.rule for a in alerts} == {"unlisted_operator", "off_hours", "watch_list"}
    assert [a.severity for a in alerts] == sorted(
        (a.severity for a in alerts), key=["high", "medium", "low"].index
    )
    later = scan(make_events(sorted(rows)), ward_context(), start=dt.datetime(2021, 6, 5))
    assert {a.operator_id for a in later} == {"U1"}


def test_scan_in_two_threads_gives_the_same_alerts():
    rows = session("2021-06-01", "22:30", "T0101", "U99", ["R900"], "住民票")
    rows += session("2021-06-10", "22:30", "T0101", "U1", ["R1"], "住民票")
    one = scan(make_events(sorted(rows)), ward_context())
    two = scan(make_events(sorted(rows)), ward_context(), workers=2)
    assert [a.to_dict() for a in one] == [a.to_dict() for a in two]


def test_scan_rejects_an_unknown_rule():
    from kumin.errors import ParameterError

    with pytest.raises(ParameterError, match="'rules' parameter of scan"):
        scan(make_events([]), ward_context(), rules=["no_such_rule"])
