"""kumin's own audit trail analysed like a terminal log (pure: no database)."""

from __future__ import annotations

import datetime as dt

from kumin.oplog.scan import scan
from kumin.oplog.service_imports import AUDIT_RULES, audit_context, audit_events

JST = dt.timezone(dt.timedelta(hours=9))


def _entries(nights: int = 40):
    """Ten weekdays of ordinary reads by two users, then one of them reads many
    records in the middle of the night."""
    seq = 0

    def entry(actor, action, when, obj="", purpose="", details=None, outcome="ok"):
        nonlocal seq
        seq += 1
        return {
            "seq": seq,
            "ts": when.astimezone(dt.UTC).isoformat(),
            "actor": actor,
            "action": action,
            "object": obj,
            "purpose": purpose,
            "outcome": outcome,
            "details": details or {},
        }

    out = []
    day = dt.date(2021, 6, 1)
    for d in range(14):
        date = day + dt.timedelta(days=d)
        if date.weekday() >= 5:
            continue
        for user, source in (("sato", "web"), ("tanaka", "cli")):
            out.append(
                entry(
                    user,
                    "auth.login",
                    dt.datetime.combine(date, dt.time(9), JST),
                    details={"source": source},
                )
            )
            for k in range(8):
                at = dt.datetime.combine(date, dt.time(10, 5 * k), JST)
                out.append(entry(user, "cases.read", at, f"case:{d * 10 + k}", "follow-up"))
    night = dt.datetime(2021, 6, 15, 1, 0, tzinfo=JST)
    out.append(entry("tanaka", "auth.login", night, details={"source": "web"}))
    for k in range(nights):
        out.append(
            entry("tanaka", "cases.read", night + dt.timedelta(minutes=k), f"case:{900 + k}")
        )
    # neither failures, nor non-personal actions, nor the system are lookups
    out.append(entry("tanaka", "cases.read", night, "case:1", outcome="denied"))
    out.append(entry("tanaka", "cases.summary", night, "cases"))
    out.append(entry("system", "cases.read", night, "case:2"))
    return out


def test_audit_entries_become_events_on_the_local_clock():
    ev = audit_events(_entries())
    assert ev.height == 10 * 2 * 8 + 40
    first = ev.row(0, named=True)
    assert first["ts"] == dt.datetime(2021, 6, 1, 10, 0)
    assert first["terminal_id"] in ("kumin-web", "kumin-cli")
    assert set(ev.get_column("action").cast(str).unique()) == {"view"}
    night = ev.filter(ev["subject"] == "case:900").row(0, named=True)
    assert (night["operator_id"], night["terminal_id"]) == ("tanaka", "kumin-web")


def test_a_user_reading_many_records_at_night_is_caught():
    ev = audit_events(_entries())
    ctx = audit_context(["sato", "tanaka"], dt.date(2021, 1, 1))
    alerts = scan(ev, ctx, rules=list(AUDIT_RULES))
    rules = {(a.rule, a.operator_id) for a in alerts}
    assert rules == {("off_hours", "tanaka"), ("volume_spike", "tanaka")}
    night = next(a for a in alerts if a.rule == "off_hours")
    assert len(night.events) == 40 and {e["file"] for e in night.events} == {"audit_log"}
    assert "tanaka" in night.explain("en")


def test_ordinary_office_hours_reading_raises_nothing():
    ev = audit_events(_entries(nights=0))
    ctx = audit_context(["sato", "tanaka"], dt.date(2021, 1, 1))
    assert scan(ev, ctx, rules=list(AUDIT_RULES)) == []


def test_public_names_are_sorted_and_importable():
    import kumin.oplog as oplog

    assert oplog.__all__ == sorted(oplog.__all__, key=lambda n: (not n.isupper(), n))
    assert all(hasattr(oplog, n) for n in oplog.__all__)
