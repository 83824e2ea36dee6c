"""Detection rules over operation-log events: who, where and when.

Each rule is a function ``rule(events, context) -> list[Alert]`` over the frame
:func:`prepare_events` returns. Rules group the lines of one incident into one
alert (an operator's day on a terminal, an operator's use of one unapproved
function, ...), never one alert per line. The subject rules (volume, lookups
without business records, watch list) live in :mod:`kumin.oplog.rules_subject`.

All work is vectorised polars; Python loops only run over the alerts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from kumin.core.i18n import t
from kumin.oplog.context import GovernanceContext
from kumin.oplog.logs import EVENT_SCHEMA

SEVERITIES = ("low", "medium", "high")


@dataclass
class Alert:
    """One suspicious incident and the log lines behind it.

    ``evidence`` holds plain facts (counts, dates, department codes, functions);
    the only personal reference it may carry is the ``subject`` reference the
    alert is about. ``reason`` picks the explanation in the message catalogue:
    ``oplog.rule.<rule>.<reason>``.
    """

    rule: str
    reason: str
    severity: str
    score: float
    operator_id: str | None
    terminal_id: str | None
    subject: str | None
    department: str | None
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    evidence: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def message_key(self) -> str:
        return f"oplog.rule.{self.rule}.{self.reason}"

    def explain(self, lang: str | None = None) -> str:
        """The alert in plain words, in Japanese (default) or English."""
        params = {
            "operator": self.operator_id or "-",
            "terminal": self.terminal_id or "-",
            "subject": self.subject or "-",
            "department": self.department or "-",
            "first": _fmt(self.first_seen),
            "last": _fmt(self.last_seen),
            "count": len(self.events),
            **self.evidence,
        }
        return t(self.message_key, lang, **params)

    @property
    def fingerprint(self) -> str:
        """A stable id of the incident, for triage and suppression across scans."""
        first_day = self.first_seen.date().isoformat() if self.first_seen else ""
        raw = "|".join(
            [
                self.rule,
                self.reason,
                self.operator_id or "",
                self.terminal_id or "",
                self.subject or "",
                self.department or "",
                first_day,
            ]
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        """JSON-ready form (what ``kumin oplog scan --format json`` prints)."""
        return {
            "rule": self.rule,
            "reason": self.reason,
            "severity": self.severity,
            "score": round(self.score, 3),
            "operator_id": self.operator_id,
            "terminal_id": self.terminal_id,
            "subject": self.subject,
            "department": self.department,
            "first_seen": _fmt(self.first_seen),
            "last_seen": _fmt(self.last_seen),
            "evidence": self.evidence,
            "events": self.events,
            "fingerprint": self.fingerprint,
            "explanation": self.explain(lang),
        }


def _fmt(value: dt.datetime | None) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if value else ""


def severity_of(score: float) -> str:
    return "high" if score >= 0.75 else "medium" if score >= 0.4 else "low"


# ---------------------------------------------------------------- preparation


def prepare_events(events: pl.DataFrame, context: GovernanceContext) -> pl.DataFrame:
    """Add what every rule needs: the day, the terminal's department and whether it
    is shared, and the operator's department from the ledger in force that day.

    Adds ``day``, ``terminal_department``, ``reservation_required``, ``department``
    (the operator's; null when no ledger in force lists them), ``listed_here`` (listed
    in the terminal's department) and ``home`` (``department``, else the terminal's).
    Events come back sorted by time.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> from kumin.oplog.context import GovernanceContext, LedgerVersion, Terminal
    >>> ctx = GovernanceContext(terminals=(Terminal("T1", "D1"),),
    ...     ledgers=(LedgerVersion("D1", dt.date(2021, 4, 1), frozenset({"U1"})),))
    >>> ev = pl.DataFrame({"ts": [dt.datetime(2021, 5, 6, 10)], "terminal_id": ["T1"],
    ...     "operator_id": ["U1"], "action": ["view"], "subject": ["R1"],
    ...     "function": ["f"], "file": ["a.csv"], "line": [2]})
    >>> prepare_events(ev, ctx).select("department", "listed_here").row(0)
    ('D1', True)
    """
    # Kept lazy: the per-event frame is built once, at the end, and the pairs
    # below only read three of its columns.
    terminals = context.terminals_frame.select(
        "terminal_id",
        "terminal_department",
        "reservation_required",
        # a small dense number per department, for the join key below
        pl.col("terminal_department").rank("dense").cast(pl.Int64).alias("_dept"),
    )
    base = (
        events.lazy()
        .cast({k: v for k, v in EVENT_SCHEMA.items() if k in events.columns})
        .with_columns(pl.col("ts").dt.date().alias("day"))
        .join(terminals.lazy(), on="terminal_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("reservation_required").fill_null(False),
            # One integer key for (operator, day, terminal's department): joining
            # ten million rows on it is far cheaper than on three columns. Days
            # since 1970 stay below 100,000 and departments below 4,096.
            (
                (
                    pl.col("operator_id").to_physical().cast(pl.Int64) * 100_000
                    + pl.col("day").cast(pl.Int32).cast(pl.Int64)
                )
                * 4096
                + pl.col("_dept").fill_null(0)
            ).alias("_key"),
        )
        .drop("_dept")
    )
    pairs = base.select("_key", "operator_id", "day", "terminal_department").unique().collect()
    listed = (
        pairs.join(context.ledger_intervals, on="operator_id", how="inner")
        .filter(
            (pl.col("listed_from") <= pl.col("day"))
            & (pl.col("listed_to").is_null() | (pl.col("day") < pl.col("listed_to")))
        )
        .with_columns(
            (pl.col("department") == pl.col("terminal_department")).fill_null(False).alias("here")
        )
        .sort("here", "department", descending=[True, False])
        .group_by("_key", maintain_order=True)
        .agg(pl.col("department").first(), pl.col("here").any().alias("listed_here"))
    )
    ev = (
        base.join(listed.lazy(), on="_key", how="left", maintain_order="left")
        .drop("_key")
        .with_columns(
            pl.col("listed_here").fill_null(False),
            pl.coalesce("department", "terminal_department").alias("home"),
        )
        .collect()
    )
    # logs come in time order; sorting ten million rows is paid only when they do not
    return ev if ev.get_column("ts").is_sorted() else ev.sort("ts")


def _events_list(files: list[str], lines: list[int]) -> list[dict[str, Any]]:
    return [{"file": f, "line": int(n)} for f, n in zip(files, lines, strict=True)]


def _group(df: pl.DataFrame, keys: list[str], *extra: pl.Expr) -> pl.DataFrame:
    """One row per incident with its time span, terminals and (file, line) lists."""
    return (
        df.sort("ts")
        .group_by(keys, maintain_order=True)
        .agg(
            pl.col("ts").min().alias("first_seen"),
            pl.col("ts").max().alias("last_seen"),
            pl.len().alias("n"),
            pl.col("terminal_id").unique(maintain_order=True).alias("terminals"),
            pl.col("file"),
            pl.col("line"),
            *extra,
        )
    )


# ------------------------------------------------------------------- the rules


def rule_unlisted_operator(ev: pl.DataFrame, context: GovernanceContext) -> list[Alert]:
    """Operator not in the ledger in force: never listed, removed at a transfer, or
    listed only in another department while using a non-shared terminal."""
    bad = ev.filter(
        pl.when(pl.col("reservation_required"))
        .then(pl.col("department").is_null())
        .otherwise(~pl.col("listed_here"))
    )
    if bad.is_empty():
        return []
    bad = bad.with_columns(pl.coalesce("terminal_department", "department").alias("dept_key"))
    iv = context.ledger_intervals
    groups = _group(
        bad,
        ["operator_id", "dept_key"],
        pl.col("department").drop_nulls().first().alias("listed_in"),
    )
    alerts = []
    for g in groups.iter_rows(named=True):
        history = iv.filter(pl.col("operator_id") == g["operator_id"])
        past_here = history.filter(
            (pl.col("department") == g["dept_key"])
            & pl.col("listed_to").is_not_null()
            & (pl.col("listed_to") <= g["first_seen"].date())
        )
        evidence: dict[str, Any] = {"lines": g["n"], "terminals": ", ".join(g["terminals"])}
        if past_here.height:
            reason = "removed"
            evidence["removed_on"] = past_here["listed_to"].max().isoformat()
            score = 0.9
        elif g["listed_in"]:
            reason = "other_department"
            evidence["listed_in"] = g["listed_in"]
            score = 0.6
        elif history.height:
            reason = "removed"
            evidence["removed_on"] = history["listed_to"].drop_nulls().max().isoformat()
            score = 0.9
        else:
            reason, score = "never_listed", 1.0
        alerts.append(
            Alert(
                "unlisted_operator",
                reason,
                severity_of(score),
                score,
                g["operator_id"],
                g["terminals"][0],
                None,
                g["dept_key"],
                g["first_seen"],
                g["last_seen"],
                evidence,
                _events_list(g["file"], g["line"]),
            )
        )
    return alerts


def _merged_reservations(context: GovernanceContext) -> pl.DataFrame:
    """Union of overlapping reservations per (department, terminal)."""
    r = context.reservations_frame.sort("department", "terminal_id", "start")
    if r.is_empty():
        return r
    r = r.with_columns(
        pl.col("end").cum_max().shift(1).over("department", "terminal_id").alias("prev_end")
    ).with_columns(
        (pl.col("prev_end").is_null() | (pl.col("start") > pl.col("prev_end")))
        .cum_sum()
        .over("department", "terminal_id")
        .alias("block")
    )
    return (
        r.group_by("department", "terminal_id", "block")
        .agg(pl.col("start").min(), pl.col("end").max())
        .drop("block")
        .sort("start")
    )


def rule_outside_reservation(ev: pl.DataFrame, context: GovernanceContext) -> list[Alert]:
    """A shared terminal used by another department outside its reservations."""
    cand = ev.filter(
        pl.col("reservation_required")
        & pl.col("department").is_not_null()
        & (pl.col("department") != pl.col("terminal_department"))
    )
    if cand.is_empty():
        return []
    res = _merged_reservations(context)
    if res.is_empty():
        bad = cand
    else:
        bad = (
            cand.sort("ts")
            .join_asof(
                res.rename({"start": "res_start", "end": "res_end"}),
                left_on="ts",
                right_on="res_start",
                by=["department", "terminal_id"],
                strategy="backward",
                check_sortedness=False,
            )
            .filter(pl.col("res_end").is_null() | (pl.col("ts") >= pl.col("res_end")))
        )
    if bad.is_empty():
        return []
    owner = {t.terminal_id: t.department for t in context.terminals}
    alerts = []
    for g in _group(bad, ["operator_id", "terminal_id", "department", "day"]).iter_rows(named=True):
        day_res = (
            res.filter(
                (pl.col("department") == g["department"])
                & (pl.col("terminal_id") == g["terminal_id"])
                & (pl.col("start").dt.date() == g["day"])
            )
            if not res.is_empty()
            else res
        )
        evidence = {
            "day": g["day"].isoformat(),
            "lines": g["n"],
            "reservations_that_day": day_res.height,
            "terminal_department": owner.get(g["terminal_id"], "-"),
        }
        score = 0.7 if day_res.height == 0 else 0.5
        alerts.append(
            Alert(
                "outside_reservation",
                "no_reservation" if day_res.height == 0 else "outside_slot",
                severity_of(score),
                score,
                g["operator_id"],
                g["terminal_id"],
                None,
                g["department"],
                g["first_seen"],
                g["last_seen"],
                evidence,
                _events_list(g["file"], g["line"]),
            )
        )
    return alerts


def rule_off_hours(ev: pl.DataFrame, context: GovernanceContext) -> list[Alert]:
    """Activity outside the department's hours, on weekends or on holidays."""
    th = context.thresholds
    if ev.is_empty():
        return []
    # The calendar is judged once per (department, day); events only compare
    # their time of day with that day's allowed window.
    days = ev.select("home", "day").unique()
    first, last = days.select(pl.col("day").min().alias("a"), pl.col("day").max().alias("b")).row(0)
    closed = context.closed_days_frame(first, last).with_columns(pl.lit(True).alias("closed"))
    deps = context.departments_frame.select(
        pl.col("department").alias("home"), "open", "close", "weekend_open", "holiday_open"
    )
    minute = 60_000_000  # microseconds, as the timestamps count them
    calendar = (
        days.join(deps, on="home", how="inner")
        .join(closed, on="day", how="left")
        .select(
            "home",
            "day",
            "open",
            "close",
            pl.when(pl.col("closed").fill_null(False) & ~pl.col("holiday_open"))
            .then(pl.lit("holiday"))
            .when((pl.col("day").dt.weekday() >= 6) & ~pl.col("weekend_open"))
            .then(pl.lit("weekend"))
            .alias("closed_kind"),
            # pl.Time counts nanoseconds since midnight
            (pl.col("open").cast(pl.Int64) // 1000 - th.early_grace_minutes * minute).alias("lo"),
            (pl.col("close").cast(pl.Int64) // 1000 + th.late_grace_minutes * minute).alias("hi"),
        )
    )
    tod = pl.col("ts").cast(pl.Int64) % (24 * 60 * minute)  # naive local time of day
    # Only events outside the narrowest window, or on a day some department does
    # not work, can be off hours: a cheap filter before the join.
    lo, hi = calendar.select(pl.col("lo").max(), pl.col("hi").min()).row(0)
    odd_days = calendar.filter(pl.col("closed_kind").is_not_null())["day"].unique()
    x = (
        ev.lazy()
        .filter(pl.col("action") != "logout")  # automatic logouts come after idling
        .filter((tod < lo) | (tod > hi) | pl.col("day").is_in(odd_days.implode()))
        .select("ts", "day", "home", "operator_id", "terminal_id", "file", "line")
        .collect()
        .join(calendar, on=["home", "day"], how="inner")
        .filter(pl.col("closed_kind").is_not_null() | (tod < pl.col("lo")) | (tod > pl.col("hi")))
        .with_columns(pl.coalesce("closed_kind", pl.lit("night")).alias("kind"))
    )
    if x.is_empty():
        return []
    alerts = []
    groups = _group(
        x,
        ["operator_id", "terminal_id", "home", "day", "kind"],
        pl.col("open").first(),
        pl.col("close").first(),
    )
    for g in groups.iter_rows(named=True):
        evidence = {
            "day": g["day"].isoformat(),
            "kind": g["kind"],
            "lines": g["n"],
            "hours": f"{g['open']:%H:%M}-{g['close']:%H:%M}",
            "from_time": f"{g['first_seen']:%H:%M}",
            "to_time": f"{g['last_seen']:%H:%M}",
        }
        if g["kind"] == "night":
            hour = g["first_seen"].hour
            score = 0.9 if hour >= 22 or hour < 6 else 0.6
        else:
            score = 0.7
        alerts.append(
            Alert(
                "off_hours",
                g["kind"],
                severity_of(score),
                score,
                g["operator_id"],
                g["terminal_id"],
                None,
                g["home"],
                g["first_seen"],
                g["last_seen"],
                evidence,
                _events_list(g["file"], g["line"]),
            )
        )
    return alerts


def rule_unapproved_function(ev: pl.DataFrame, context: GovernanceContext) -> list[Alert]:
    """A function not covered by an approved usage application of the department."""
    used = (
        ev.lazy()
        .filter(pl.col("function") != "")
        .select("home", "function", "day")
        .unique()
        .collect()
    )
    apps = context.applications_frame.rename({"department": "home"})
    covered = (
        used.join(apps, on=["home", "function"], how="inner")
        .filter((pl.col("valid_from") <= pl.col("day")) & (pl.col("day") <= pl.col("valid_to")))
        .select("home", "function", "day")
        .unique()
    )
    uncovered = used.join(covered, on=["home", "function", "day"], how="anti", nulls_equal=True)
    bad = (
        ev.lazy()
        .filter(pl.col("function") != "")
        .join(uncovered.lazy(), on=["home", "function", "day"], how="semi", nulls_equal=True)
        .collect()
    )
    if bad.is_empty():
        return []
    alerts = []
    for g in _group(bad, ["operator_id", "home", "function"]).iter_rows(named=True):
        mine = apps.filter((pl.col("home") == g["home"]) & (pl.col("function") == g["function"]))
        evidence: dict[str, Any] = {
            "function": g["function"],
            "lines": g["n"],
            "terminals": ", ".join(g["terminals"]),
        }
        if mine.height:
            ended = mine.filter(pl.col("valid_to") < g["first_seen"].date())
            reason = "expired" if ended.height else "not_yet"
            evidence["valid_from"] = mine["valid_from"].min().isoformat()
            evidence["valid_to"] = mine["valid_to"].max().isoformat()
            score = 0.6
        else:
            reason, score = "never", 0.8
        alerts.append(
            Alert(
                "unapproved_function",
                reason,
                severity_of(score),
                score,
                g["operator_id"],
                g["terminals"][0],
                None,
                g["home"],
                g["first_seen"],
                g["last_seen"],
                evidence,
                _events_list(g["file"], g["line"]),
            )
        )
    return alerts


def rule_shared_credentials(ev: pl.DataFrame, context: GovernanceContext) -> list[Alert]:
    """One operator active on two terminals at overlapping times.

    A session is a run of the operator's events on one terminal with pauses no
    longer than ``session_gap_minutes``; an alert needs another terminal's session
    to go on at least ``overlap_min_seconds`` after this one began.
    """
    th = context.thresholds
    gap = dt.timedelta(minutes=th.session_gap_minutes)
    # ev is in time order, so sessions come from a window over one integer per
    # (operator, terminal) without sorting ten million rows. A logout is no
    # activity: terminals log out by themselves after idling. The frame stays slim
    # (row number, keys, time); details are fetched for the hits only.
    pair = pl.col("operator_id").to_physical().cast(pl.UInt64) * (1 << 32) + pl.col(
        "terminal_id"
    ).to_physical().cast(pl.UInt64)
    s = (
        ev.lazy()
        .with_row_index("row")
        .filter(pl.col("action") != "logout")
        .select("row", "operator_id", "terminal_id", "ts", pair.alias("pair"))
        .with_columns(
            (pl.col("ts").diff() > gap).fill_null(True).cum_sum().over("pair").alias("local")
        )
        .collect()
    )
    sessions = (
        s.group_by("pair", "local")
        .agg(
            pl.col("operator_id").first(),
            pl.col("terminal_id").first(),
            pl.col("ts").min().alias("start"),
            pl.col("ts").max().alias("end"),
        )
        .sort("operator_id", "start")
        .with_row_index("sid")
    )
    sessions = sessions.with_columns(
        pl.col("end").cum_max().shift(1).over("operator_id").alias("prev_end"),
        pl.when(pl.col("end") == pl.col("end").cum_max().over("operator_id"))
        .then(pl.col("sid"))
        .otherwise(None)
        .forward_fill()
        .shift(1)
        .over("operator_id")
        .alias("other_sid"),
    )
    hits = sessions.filter(
        (pl.col("prev_end") - pl.col("start")) >= dt.timedelta(seconds=th.overlap_min_seconds)
    )
    if hits.is_empty():
        return []
    pairs = pl.concat(
        [
            hits.select("sid", pl.col("sid").alias("hit")),
            hits.select(pl.col("other_sid").alias("sid"), pl.col("sid").alias("hit")),
        ]
    ).unique()
    pairs = pairs.join(sessions.select("sid", "pair", "local"), on="sid")
    rows = s.join(pairs.drop("sid"), on=["pair", "local"], how="inner").select("row", "hit")
    x = ev.select("operator_id", "terminal_id", "ts", "day", "home", "file", "line")[
        rows["row"]
    ].with_columns(rows["hit"])
    # one incident per operator and day, however many overlapping pairs it holds
    first_day = x.group_by("hit").agg(pl.col("day").min().alias("hit_day"))
    x = x.join(first_day, on="hit").unique(["file", "line"])
    alerts = []
    for g in _group(x, ["operator_id", "hit_day"], pl.col("home").drop_nulls().first()).iter_rows(
        named=True
    ):
        overlap = hits.filter(pl.col("operator_id") == g["operator_id"]).with_columns(
            (pl.col("prev_end") - pl.col("start")).dt.total_seconds().alias("ov")
        )
        seconds = int(overlap.filter(pl.col("start").dt.date() == g["hit_day"])["ov"].max() or 0)
        score = min(1.0, 0.6 + seconds / 3600)
        alerts.append(
            Alert(
                "shared_credentials",
                "overlap",
                severity_of(score),
                score,
                g["operator_id"],
                g["terminals"][0],
                None,
                g["home"],
                g["first_seen"],
                g["last_seen"],
                {
                    "day": g["hit_day"].isoformat(),
                    "terminals": ", ".join(sorted(g["terminals"])),
                    "overlap_minutes": round(seconds / 60, 1),
                    "lines": g["n"],
                },
                _events_list(g["file"], g["line"]),
            )
        )
    return alerts


def rule_unsecured_terminal(ev: pl.DataFrame, context: GovernanceContext) -> list[Alert]:
    """A terminal the daily checklist records as not fixed by its security wire."""
    # A run of "not secured" lasts until a check finds the terminal secured again;
    # days without a check (weekends) do not break it.
    checks = context.checklist_frame.sort("terminal_id", "date")
    flags = checks.with_columns(
        (pl.col("secured") != pl.col("secured").shift(1))
        .fill_null(True)
        .cum_sum()
        .over("terminal_id")
        .alias("run")
    ).filter(~pl.col("secured"))
    if flags.is_empty():
        return []
    runs = (
        flags.group_by("terminal_id", "run")
        .agg(
            pl.col("date").min().alias("from_day"),
            pl.col("date").max().alias("to_day"),
            pl.len().alias("days"),
        )
        .sort("terminal_id", "from_day")
    )
    term = context.terminals_frame
    alerts = []
    for r in runs.iter_rows(named=True):
        used = ev.filter(
            (pl.col("terminal_id") == r["terminal_id"])
            & pl.col("day").is_between(r["from_day"], r["to_day"])
        )
        dept = term.filter(pl.col("terminal_id") == r["terminal_id"])["terminal_department"]
        start = dt.datetime.combine(r["from_day"], dt.time())
        end = dt.datetime.combine(r["to_day"], dt.time(23, 59, 59))
        score = min(1.0, 0.5 + 0.1 * r["days"])
        alerts.append(
            Alert(
                "unsecured_terminal",
                "not_secured",
                severity_of(score),
                score,
                None,
                r["terminal_id"],
                None,
                dept[0] if dept.len() else None,
                used["ts"].min() if used.height else start,
                used["ts"].max() if used.height else end,
                {
                    "from_day": r["from_day"].isoformat(),
                    "to_day": r["to_day"].isoformat(),
                    "days": r["days"],
                    "lines": used.height,
                },
                _events_list(used["file"].to_list(), used["line"].to_list()),
            )
        )
    return alerts


def rule_failed_access(ev: pl.DataFrame, context: GovernanceContext) -> list[Alert]:
    """Repeated failed sign-ins or refused operations by one operator in one day:
    a password being guessed, or an operator probing functions not granted.

    Terminal logs record both (ログイン失敗, 操作拒否); one mistyped password is
    daily life, a run of them is not, so only days at or above the thresholds
    ``failed_logins_per_day`` and ``refused_per_day`` are raised.
    """
    th = context.thresholds
    limits = {"login_failed": th.failed_logins_per_day, "denied": th.refused_per_day}
    failed = ev.filter(pl.col("action").cast(pl.String).is_in(list(limits)))
    if failed.is_empty():
        return []
    groups = _group(
        failed.with_columns(pl.col("action").cast(pl.String)),
        ["operator_id", "day", "action"],
        pl.col("home").drop_nulls().first().alias("department"),
    )
    alerts = []
    for r in groups.iter_rows(named=True):
        limit = limits[r["action"]]
        if r["n"] < limit:
            continue
        score = min(1.0, 0.45 + 0.05 * (r["n"] - limit))
        terminals = [str(x) for x in r["terminals"]]
        alerts.append(
            Alert(
                "failed_access",
                "login_failures" if r["action"] == "login_failed" else "refused",
                severity_of(score),
                score,
                r["operator_id"],
                terminals[0] if len(terminals) == 1 else None,
                None,
                r["department"],
                r["first_seen"],
                r["last_seen"],
                {"day": r["day"].isoformat(), "lines": r["n"], "terminals": ", ".join(terminals)},
                _events_list(r["file"], r["line"]),
            )
        )
    return alerts
