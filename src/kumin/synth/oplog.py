"""A synthetic year of Juki-net terminal operations with labelled misuse.

Fifteen departments (住民記録・戸籍課 and fourteen others, as in the ward's report)
operate their integrated terminals on working days, with a business rhythm
(month-end peaks, the March/April moving season, tax notices in June, elections),
Japanese public holidays and the year-end closure, personnel transfers on 1 April
(a new ledger version per department), shared terminals in the resident-records
office used by My Number departments under reservations, approved usage
applications and business records (with rare clerical omissions). Misuse of every
kind the rules look for is injected and labelled with the log lines it produced,
including the real 2022 case (an address looked up for a colleague).

Everything is vectorised numpy; a year at ``scale=1`` is about a quarter of a
million lines, and ``scale=40`` gives the ten million of the benchmark.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from kumin.errors import ParameterError
from kumin.oplog.context import (
    ChecklistEntry,
    Department,
    GovernanceContext,
    LedgerVersion,
    Reservation,
    Terminal,
    Thresholds,
    UsageApplication,
    UsageRecord,
    WatchEntry,
    is_closed_day,
)
from kumin.oplog.logs import EVENT_SCHEMA, write_log_csv
from kumin.oplog.rules import Alert

POPULATION = 920_000  # residents of the ward, roughly
SHARED_TERMINALS = ("S01", "S02")
RECORD_OMISSION = 0.003  # business records a clerk forgot to file
ELECTIONS = (dt.date(2021, 7, 4), dt.date(2021, 10, 31), dt.date(2022, 7, 10))


@dataclass(frozen=True)
class _Dept:
    code: str
    name: str
    operators: int
    terminals: int
    rate: float  # lookup cases per operator and working day
    functions: tuple[str, ...]
    uses_shared: bool = False
    counter: bool = False  # counter work: residents searched by name
    weekend_open: bool = False
    close: dt.time = dt.time(17, 15)


DEPARTMENTS: tuple[_Dept, ...] = (
    _Dept(
        "D01",
        "住民記録・戸籍課",
        20,
        4,
        6,
        ("住民票の写し等交付", "広域交付", "転入・転出"),
        counter=True,
    ),
    _Dept(
        "D02",
        "番号制度・マイナンバーカード交付推進担当課",
        10,
        2,
        5,
        ("マイナンバーカード交付",),
        counter=True,
        weekend_open=True,
        close=dt.time(19, 0),
    ),
    _Dept(
        "D03", "世田谷総合支所区民課", 6, 2, 4, ("住民票の写し等交付", "転入・転出"), counter=True
    ),
    _Dept("D04", "北沢総合支所区民課", 6, 2, 4, ("住民票の写し等交付", "転入・転出"), counter=True),
    _Dept("D05", "玉川総合支所区民課", 6, 2, 4, ("住民票の写し等交付", "転入・転出"), counter=True),
    _Dept("D06", "砧総合支所区民課", 6, 2, 4, ("住民票の写し等交付", "転入・転出"), counter=True),
    _Dept("D07", "烏山総合支所区民課", 6, 2, 4, ("住民票の写し等交付", "転入・転出"), counter=True),
    _Dept("D08", "課税課", 8, 2, 3, ("住民税",), uses_shared=True),
    _Dept("D09", "国保・年金課", 4, 1, 1, ("国民健康保険",), uses_shared=True),
    _Dept("D10", "介護保険課", 4, 1, 1, ("介護保険",), uses_shared=True),
    _Dept("D11", "生活福祉課", 4, 1, 1, ("生活保護",), uses_shared=True),
    _Dept("D12", "子ども家庭課", 6, 1, 3, ("児童手当", "児童扶養手当"), uses_shared=True),
    _Dept("D13", "選挙管理委員会事務局", 4, 1, 1, ("選挙",), uses_shared=True),
    _Dept("D14", "保健福祉課", 4, 1, 1, ("予防接種",), uses_shared=True),
    _Dept("D15", "高齢福祉課", 4, 1, 1, ("後期高齢", "福祉資金貸付"), uses_shared=True),
)
#: D15's application for 福祉資金貸付 ends on 30 September after the transfer: the
#: department stops using it (a legitimate twin of "expired")
EXPIRING = ("D15", "福祉資金貸付")


@dataclass(frozen=True)
class Incident:
    """One injected misuse and the log lines it produced (``kind`` = rule name)."""

    kind: str
    description: str
    operator_id: str | None
    terminal_id: str | None
    subject: str | None
    start: dt.datetime
    end: dt.datetime
    lines: frozenset[int]


@dataclass
class SynthOplog:
    """Synthetic logs, their governance context and the labelled incidents."""

    events: pl.DataFrame
    context: GovernanceContext
    incidents: list[Incident]
    file: str

    def write_csv(self, path: str | Path) -> None:
        """Write the log as the CSV ``kumin oplog import`` takes (lines match)."""
        write_log_csv(self.events, path)


@dataclass(frozen=True)
class DetectionQuality:
    """Recall over injected incidents and precision over alerts."""

    incidents: int
    detected: int
    alerts: int
    true_alerts: int
    missed: list[Incident] = field(default_factory=list)
    false_alerts: list[Alert] = field(default_factory=list)
    by_rule: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return self.detected / self.incidents if self.incidents else 1.0

    @property
    def precision(self) -> float:
        return self.true_alerts / self.alerts if self.alerts else 1.0


# -------------------------------------------------------------------- helpers


def _subjects(ids: np.ndarray) -> pl.Series:
    """Resident references such as R0001234 (not the resident register's numbers)."""
    return "R" + pl.Series(ids, dtype=pl.Int64).cast(pl.String).str.zfill(7)


def _rhythm(dept: _Dept, day: dt.date) -> float:
    f = 1.0
    if day.day >= 25:
        f *= 1.5  # month-end closing
    if dept.counter and day.month in (3, 4):
        f *= 1.5  # moving season
    if dept.code == "D08" and day.month == 6:
        f *= 1.8  # residence-tax notices
    if dept.code == "D13" and any(0 <= (e - day).days <= 21 for e in ELECTIONS):
        f *= 3.0
    return f


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


class _Builder:
    """Collects event rows of the injected incidents."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.records: list[tuple[str, str, dt.date]] = []
        self.meta: list[tuple[str, str, str | None, str | None, str | None]] = []

    def incident(
        self,
        kind: str,
        description: str,
        operator: str | None,
        terminal: str | None,
        subject: str | None,
    ) -> int:
        self.meta.append((kind, description, operator, terminal, subject))
        return len(self.meta) - 1

    def session(
        self,
        inc: int,
        op: str,
        term: str,
        start: dt.datetime,
        cases: Iterable[tuple[str, str]],
        step_s: int = 120,
        actions: tuple[str, ...] = ("view",),
    ) -> dt.datetime:
        t = start
        self.rows.append((t, term, op, "login", "", "", inc))
        for subject, function in cases:
            for a in actions:
                t += dt.timedelta(seconds=step_s // max(1, len(actions)))
                self.rows.append((t, term, op, a, subject, function, inc))
        t += dt.timedelta(seconds=60)
        self.rows.append((t, term, op, "logout", "", "", inc))
        return t


# ----------------------------------------------------------------- generator


def synth_oplog(
    seed: int = 0,
    *,
    start: dt.date = dt.date(2021, 1, 1),
    days: int = 365,
    scale: float = 1.0,
    inject: bool = True,
    file: str = "synthetic_oplog.csv",
    cases_per_month: dict[tuple[str, str], int] | None = None,
) -> SynthOplog:
    """Generate a deterministic year of operation logs with labelled misuse.

    Parameters
    ----------
    seed : random seed; the same seed gives the same logs.
    start, days : the period (default: calendar year 2021, transfers on 1 April).
    scale : multiplies the operators and terminals of every department.
    inject : add the labelled misuse (False gives clean logs for baselines); needs a
        period holding the April transfer and the autumn after it.
    file : the ``file`` name events carry (what :meth:`SynthOplog.write_csv` writes).
    cases_per_month : ``{(department code, "YYYY-MM"): n}``; the departments it names
        make exactly ``n`` lookup cases in the month (a case: one resident, one
        operator, one day; no resident twice a day), before any injected misuse (a
        month not given: none). The demo passes
        section 4's inquiries so that its three records agree; None (the default)
        leaves the volumes to the departments' rates.

    Examples
    --------
    >>> s = synth_oplog(seed=0)
    >>> s.events.height > 100_000, len({i.kind for i in s.incidents})
    (True, 9)
    >>> synth_oplog(seed=0, days=60, inject=False).incidents
    []
    """
    rng = np.random.default_rng(seed)
    end = start + dt.timedelta(days=days - 1)
    calendar = [start + dt.timedelta(days=i) for i in range(days)]
    transfer = dt.date(start.year if start < dt.date(start.year, 4, 1) else start.year + 1, 4, 1)
    first_ledger = dt.date(transfer.year - 1, 4, 1)
    expiry = dt.date(transfer.year, 9, 30)
    if inject and ((transfer - start).days < 20 or (end - expiry).days < 45):
        raise ParameterError(
            "oplog.parameter",
            name="days",
            owner="synth_oplog",
            constraint="long enough to hold the April transfer and the autumn after it "
            f"(from {start}: at least {(expiry - start).days + 45})",
            value=repr(days),
        )
    n_dep = len(DEPARTMENTS)

    # terminals
    terms: list[list[str]] = []
    terminals: list[Terminal] = []
    for d in DEPARTMENTS:
        ids = [f"T{d.code[1:]}{k + 1:02d}" for k in range(max(1, round(d.terminals * scale)))]
        terms.append(ids)
        terminals += [Terminal(t, d.code, f"{d.name} 執務室") for t in ids]
    terminals += [Terminal(s, "D01", "住民記録事務室（共用）", True) for s in SHARED_TERMINALS]

    # operators and the April transfer
    before: list[int] = []
    for k, d in enumerate(DEPARTMENTS):
        before += [k] * max(2, round(d.operators * scale))
    n0 = len(before)
    after = list(before)
    fate = rng.random(n0)
    for i in range(n0):
        if fate[i] < 0.05:
            after[i] = -1  # leaves (retirement, seconded out)
        elif fate[i] < 0.17:
            after[i] = int((before[i] + rng.integers(1, n_dep)) % n_dep)
    leavers = [before[i] for i in range(n0) if after[i] == -1]
    before += [-1] * len(leavers)  # new hires replace leavers in their departments
    after += leavers
    n_ops = len(before)
    op_ids = np.array([f"U{i + 1:05d}" for i in range(n_ops)])
    before_a, after_a = np.array(before), np.array(after)

    ledgers = []
    for k, d in enumerate(DEPARTMENTS):
        ledgers.append(LedgerVersion(d.code, first_ledger, frozenset(op_ids[before_a == k])))
        ledgers.append(LedgerVersion(d.code, transfer, frozenset(op_ids[after_a == k])))

    # operator-days
    day_idx = np.arange(days)
    is_weekend = np.array([c.weekday() >= 5 for c in calendar])
    closed = np.array([is_closed_day(c) for c in calendar])
    post = np.array([c >= transfer for c in calendar])
    dept_od = np.where(post[None, :], after_a[:, None], before_a[:, None])  # ops x days
    weekend_open = np.array([d.weekend_open for d in DEPARTMENTS])
    rhythm = np.array([[_rhythm(d, c) for c in calendar] for d in DEPARTMENTS])
    rate = np.array([d.rate for d in DEPARTMENTS])
    valid = dept_od >= 0
    dsafe = np.where(valid, dept_od, 0)
    working = valid & ~closed[None, :] & (~is_weekend[None, :] | weekend_open[dsafe])
    presence = np.where(is_weekend[None, :], 0.45, 0.9)
    active = working & (rng.random((n_ops, days)) < presence)
    mult = rng.lognormal(0.0, 0.3, n_ops)
    lam = rate[dsafe] * rhythm[dsafe, day_idx[None, :]] * mult[:, None]
    cases = np.where(active, rng.poisson(lam), 0)
    fixed = np.zeros(n_dep, bool)
    if cases_per_month is not None:
        fixed = _fix_cases(rng, cases, active, working, lam, dept_od, calendar, cases_per_month)
    o_idx, d_idx = np.nonzero(cases)
    n_cases = cases[o_idx, d_idx]
    dep = dsafe[o_idx, d_idx]

    # sessions: spread over the day, never overlapping for one operator
    k_sess = np.clip(np.ceil(n_cases / 4), 1, 8).astype(np.int64)
    s_od = np.repeat(np.arange(len(o_idx)), k_sess)
    s_j = np.arange(len(s_od)) - np.repeat(np.cumsum(k_sess) - k_sess, k_sess)
    s_k = k_sess[s_od]
    s_dep = dep[s_od]
    opens = np.full(n_dep, _minutes(dt.time(8, 30)))
    closes = np.array([_minutes(d.close) for d in DEPARTMENTS])
    span = (closes - opens - 30)[s_dep]
    slot = span / s_k
    s_start = opens[s_dep] + 5 + s_j * slot + rng.random(len(s_od)) * 0.2 * slot
    day_of_s = d_idx[s_od]
    month_end = np.array([c.day >= 25 for c in calendar])[day_of_s]
    overtime = (s_j == s_k - 1) & month_end & (rng.random(len(s_od)) < 0.3)
    s_start = np.where(overtime, closes[s_dep] - 10 + rng.random(len(s_od)) * 40, s_start)
    early = (s_j == 0) & (rng.random(len(s_od)) < 0.05)  # in before opening, inside the grace
    s_start = np.where(early, opens[s_dep] - 5 - rng.random(len(s_od)) * 20, s_start)
    base, extra = n_cases[s_od] // s_k, n_cases[s_od] % s_k
    s_n = base + (s_j < extra)
    keep = s_n > 0
    s_od, s_start, s_n, s_dep, slot = s_od[keep], s_start[keep], s_n[keep], s_dep[keep], slot[keep]
    s_op = o_idx[s_od]
    s_day = d_idx[s_od]
    s_gap = np.minimum(1.5 + rng.random(len(s_od)) * 2.5, 0.6 * slot / s_n)  # minutes per case

    # terminals: home terminal; some My Number sessions on a shared one, reserved
    n_terms = np.array([len(t) for t in terms])
    term_names = [t for ts in terms for t in ts] + list(SHARED_TERMINALS)
    term_off = np.concatenate([[0], np.cumsum(n_terms)[:-1]])
    s_term = term_off[s_dep] + (s_op % n_terms[s_dep])
    # now and then a colleague's terminal of the same department, one session at a time
    borrow = rng.random(len(s_od)) < 0.15
    s_term = np.where(
        borrow, term_off[s_dep] + rng.integers(0, 1 << 30, len(s_od)) % n_terms[s_dep], s_term
    )
    uses_shared = np.array([d.uses_shared for d in DEPARTMENTS])
    u = rng.random(len(s_od))
    shared = (uses_shared[s_dep] & (u < 0.12)) | ((s_dep == 0) & (u < 0.05))
    which = rng.integers(0, len(SHARED_TERMINALS), len(s_od))
    s_term = np.where(shared, n_terms.sum() + which, s_term)

    # cases and their events
    c_s = np.repeat(np.arange(len(s_od)), s_n)
    c_i = np.arange(len(c_s)) - np.repeat(np.cumsum(s_n) - s_n, s_n)
    c_t = s_start[c_s] + 1.0 + c_i * s_gap[c_s]  # minutes from midnight
    c_subject = rng.integers(0, POPULATION, len(c_s))
    # residents many departments deal with (movers, new households), all on record
    movers = rng.integers(0, POPULATION, 300)
    from_pool = rng.random(len(c_s)) < 0.03
    c_subject = np.where(from_pool, movers[rng.integers(0, 300, len(c_s))], c_subject)
    # follow-ups: the operator looks again at a resident of one of their recent cases
    back = rng.integers(1, 40, len(c_s))
    src = np.maximum(np.arange(len(c_s)) - back, 0)
    same_op = s_op[c_s[src]] == s_op[c_s]
    follow = same_op & (rng.random(len(c_s)) < 0.05)
    c_subject = np.where(follow, c_subject[src], c_subject)
    c_dep = s_dep[c_s]
    if fixed.any():  # a fixed count is of distinct residents per operator and day
        _distinct(rng, c_subject, s_op[c_s], s_day[c_s], fixed[c_dep])
    n_fn = np.array([len(d.functions) for d in DEPARTMENTS])
    c_fn = rng.integers(0, 1 << 30, len(c_s)) % n_fn[c_dep]
    fn_names = [f for d in DEPARTMENTS for f in d.functions]
    fn_off = np.concatenate([[0], np.cumsum(n_fn)[:-1]])
    c_fn_id = fn_off[c_dep] + c_fn
    # D15's expiring application: no such lookups after it ends
    exp_dep = [d.code for d in DEPARTMENTS].index(EXPIRING[0])
    exp_fn = fn_names.index(EXPIRING[1], fn_off[exp_dep])
    late = np.array([c > expiry for c in calendar])[s_day[c_s]]
    c_fn_id = np.where((c_fn_id == exp_fn) & late, fn_off[exp_dep], c_fn_id)
    counter = np.array([d.counter for d in DEPARTMENTS])
    has_search = rng.random(len(c_s)) < np.where(counter[c_dep], 0.5, 0.1)
    has_print = rng.random(len(c_s)) < 0.2

    day0 = np.datetime64(start, "ms")
    s_day_ts = day0 + s_day.astype("timedelta64[D]")
    c_base = s_day_ts[c_s] + (c_t * 60_000).astype("timedelta64[ms]")
    parts = []
    for mask, offset, action in (
        (has_search, 0, "search"),
        (np.ones(len(c_s), bool), 20, "view"),
        (has_print, 50, "print"),
    ):
        idx = np.nonzero(mask)[0]
        parts.append(
            pl.DataFrame(
                {
                    "ts": c_base[idx] + np.timedelta64(offset, "s"),
                    "terminal": s_term[c_s[idx]],
                    "op": s_op[c_s[idx]],
                    "action": action,
                    "subject": c_subject[idx],
                    "fn": c_fn_id[idx],
                }
            )
        )
    s_end = s_start + 1.0 + s_n * s_gap + 1.5
    # a clerk called away: the terminal logs out by itself after half an hour idle
    idle_out = rng.random(len(s_od)) < 0.05
    s_end = s_end + np.where(idle_out, 30.0, 0.0)
    for t_min, action in ((s_start, "login"), (s_end, "logout")):
        parts.append(
            pl.DataFrame(
                {
                    "ts": s_day_ts + (t_min * 60_000).astype("timedelta64[ms]"),
                    "terminal": s_term,
                    "op": s_op,
                    "action": action,
                    "subject": np.full(len(s_op), -1),
                    "fn": np.full(len(s_op), -1),
                }
            )
        )
    legit = pl.concat(parts).with_columns(pl.col("ts").cast(pl.Datetime("us")))
    term_s = pl.Series(term_names)
    fn_s = pl.Series(fn_names)
    op_s = pl.Series(op_ids)
    legit = legit.select(
        "ts",
        term_s.gather(legit["terminal"]).alias("terminal_id"),
        op_s.gather(legit["op"]).alias("operator_id"),
        "action",
        pl.when(pl.col("subject") >= 0)
        .then(_subjects(legit["subject"].to_numpy()))
        .otherwise(pl.lit(""))
        .alias("subject"),
        pl.when(pl.col("fn") >= 0)
        .then(fn_s.gather(legit["fn"].clip(0)))
        .otherwise(pl.lit(""))
        .alias("function"),
        pl.lit(-1).alias("incident"),
    )

    # business records: one per case, a few forgotten; filed around the lookup day
    filed = rng.random(len(c_s)) >= RECORD_OMISSION
    rec_day = s_day[c_s] + np.where(counter[c_dep], 0, rng.integers(-3, 4, len(c_s)))
    codes = pl.Series([d.code for d in DEPARTMENTS])
    records = pl.DataFrame(
        {
            "department": codes.gather(c_dep[filed]),
            "subject": _subjects(c_subject[filed]),
            "date": (np.datetime64(start, "D") + rec_day[filed].astype("timedelta64[D]")),
        }
    ).with_columns(pl.col("date").cast(pl.Date))

    # reservations and usage records of the shared sessions
    reservations, usage = [], []
    sh = np.nonzero(shared & (s_dep != 0))[0]
    for i in sh:
        day = calendar[int(s_day[i])]
        t0 = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=float(s_start[i]))
        t1 = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=float(s_end[i]))
        r0 = t0.replace(minute=0 if t0.minute < 30 else 30, second=0, microsecond=0)
        r1 = r0 + dt.timedelta(minutes=30 * math.ceil((t1 - r0).total_seconds() / 1800 + 0.5))
        code = DEPARTMENTS[int(s_dep[i])].code
        term = term_names[int(s_term[i])]
        reservations.append(Reservation(code, term, r0, r1))
        usage.append(
            UsageRecord(
                code,
                term,
                str(op_ids[s_op[i]]),
                t0,
                t1,
                DEPARTMENTS[int(s_dep[i])].functions[0],
                int(s_n[i]),
            )
        )

    applications = []
    for d in DEPARTMENTS:
        for f in d.functions:
            until = expiry if (d.code, f) == EXPIRING else dt.date(end.year + 1, 3, 31)
            applications.append(UsageApplication(d.code, f, first_ledger, until))

    checklist = {
        (t.terminal_id, c): True
        for t in terminals
        for c in calendar
        if not closed[(c - start).days] and c.weekday() < 5
    }
    watch_ids = POPULATION + 1 + np.arange(12)
    reasons = ["公人", "職員本人", "DV等支援措置対象者"]
    watchlist = tuple(
        WatchEntry(s, reasons[k % 3]) for k, s in enumerate(_subjects(watch_ids).to_list())
    )

    b = _Builder()
    if inject:
        from kumin.synth.oplog_incidents import inject_incidents

        inject_incidents(
            b,
            rng,
            calendar,
            transfer,
            op_ids,
            before_a,
            after_a,
            active,
            terms,
            watchlist,
            checklist,
            reservations,
        )
    injected = pl.DataFrame(
        b.rows,
        schema={
            "ts": pl.Datetime("us"),
            "terminal_id": pl.String,
            "operator_id": pl.String,
            "action": pl.String,
            "subject": pl.String,
            "function": pl.String,
            "incident": pl.Int64,
        },
        orient="row",
    )
    events = (
        pl.concat([legit, injected.cast({"incident": pl.Int32})], how="vertical_relaxed")
        .filter(pl.col("ts").dt.date() <= end)
        .with_columns(pl.col("ts").dt.truncate("1s"))  # logs record whole seconds
        .sort("ts", maintain_order=True)
        .with_row_index("line", offset=2)
        .with_columns(pl.lit(file).alias("file"))
    )
    if b.records:
        records = pl.concat(
            [
                records,
                pl.DataFrame(
                    b.records,
                    schema={"department": pl.String, "subject": pl.String, "date": pl.Date},
                    orient="row",
                ),
            ]
        )
    incidents = _labels(b, events, checklist)
    context = GovernanceContext(
        departments=tuple(
            Department(d.code, d.name, dt.time(8, 30), d.close, d.weekend_open) for d in DEPARTMENTS
        ),
        terminals=tuple(terminals),
        ledgers=tuple(ledgers),
        applications=tuple(applications),
        reservations=tuple(reservations),
        usage_records=tuple(usage),
        business_records=records,
        checklist=tuple(ChecklistEntry(t, c, ok) for (t, c), ok in checklist.items()),
        watchlist=watchlist,
        thresholds=Thresholds(),
    )
    return SynthOplog(events.select(*EVENT_SCHEMA).cast(EVENT_SCHEMA), context, incidents, file)


def _fix_cases(
    rng: np.random.Generator,
    cases: np.ndarray,
    active: np.ndarray,
    working: np.ndarray,
    lam: np.ndarray,
    dept_od: np.ndarray,
    calendar: list[dt.date],
    targets: dict[tuple[str, str], int],
) -> np.ndarray:
    """Set, in place, the cases of the departments ``targets`` names to exactly its
    monthly counts, spread over their operators' days as the rates would (active
    days first); returns the mask of those departments."""
    codes = [d.code for d in DEPARTMENTS]
    months = np.array([c.strftime("%Y-%m") for c in calendar])
    known = set(months.tolist())
    fixed = np.zeros(len(DEPARTMENTS), bool)
    for (code, month), n in sorted(targets.items()):
        if code not in codes or month not in known or n < 0:
            raise ParameterError(
                "oplog.parameter",
                name="cases_per_month",
                owner="synth_oplog",
                constraint="department codes of the synthetic ward, months of the period, "
                "counts not negative",
                value=repr((code, month, n)),
            )
        fixed[codes.index(code)] = True
    for k in np.flatnonzero(fixed):
        mine = dept_od == k
        cases[mine] = 0
        for month in dict.fromkeys(months.tolist()):
            n = targets.get((codes[k], month), 0)
            if not n:
                continue
            cells = mine & working & (months == month)[None, :]
            weights = np.where(cells & active, lam, 0.0).ravel()
            if not weights.any():  # nobody in: whoever works that month
                weights = np.where(cells, lam, 0.0).ravel()
            if not weights.any():
                raise ParameterError(
                    "oplog.parameter",
                    name="cases_per_month",
                    owner="synth_oplog",
                    constraint="a month with working days of the department",
                    value=repr((codes[k], month, n)),
                )
            idx = np.flatnonzero(weights)
            drawn = rng.multinomial(n, weights[idx] / weights[idx].sum())
            cases.flat[idx] += drawn  # (flat: in place whatever the layout)
    active |= cases > 0
    return fixed


def _distinct(
    rng: np.random.Generator,
    subject: np.ndarray,
    op: np.ndarray,
    day: np.ndarray,
    mask: np.ndarray,
) -> None:
    """Redraw, in place, the masked cases' residents until no operator looks the same
    resident up twice on one day (a fixed count is then the reconciled count)."""
    idx = np.flatnonzero(mask)
    for _ in range(100):
        key = (op[idx].astype(np.int64) * 1000 + day[idx]) * POPULATION + subject[idx]
        _, first = np.unique(key, return_index=True)
        again = np.setdiff1d(np.arange(len(idx)), first)
        if not len(again):
            return
        subject[idx[again]] = rng.integers(0, POPULATION, len(again))
    raise AssertionError("could not make the residents of a day distinct")


def _labels(
    b: _Builder, events: pl.DataFrame, checklist: dict[tuple[str, dt.date], bool]
) -> list[Incident]:
    lines = (
        events.filter(pl.col("incident") >= 0)
        .group_by("incident")
        .agg(pl.col("line"), pl.col("ts").min().alias("a"), pl.col("ts").max().alias("b"))
    )
    by_inc = {r["incident"]: r for r in lines.iter_rows(named=True)}
    out = []
    for i, (kind, desc, op, term, subject) in enumerate(b.meta):
        if kind == "unsecured_terminal":
            flagged = sorted(c for (t, c), ok in checklist.items() if t == term and not ok)
            used = events.filter(
                (pl.col("terminal_id") == term) & pl.col("ts").dt.date().is_in(flagged)
            )
            a = dt.datetime.combine(flagged[0], dt.time())
            z = dt.datetime.combine(flagged[-1], dt.time(23, 59, 59))
            out.append(
                Incident(kind, desc, None, term, None, a, z, frozenset(used["line"].to_list()))
            )
            continue
        r = by_inc.get(i)
        if r is None:  # fell outside the period
            continue
        out.append(Incident(kind, desc, op, term, subject, r["a"], r["b"], frozenset(r["line"])))
    return out


def evaluate(alerts: list[Alert], incidents: list[Incident]) -> DetectionQuality:
    """Match alerts to labelled incidents.

    An incident is detected when an alert of its kind shares a log line with it
    (for ``unsecured_terminal``: names its terminal over overlapping days). An
    alert is true when it shares a line with any incident or matches an unsecured
    terminal incident; every other alert is a false alarm.
    """
    line_owner: dict[int, list[int]] = {}
    for k, inc in enumerate(incidents):
        for n in inc.lines:
            line_owner.setdefault(n, []).append(k)
    hit = [False] * len(incidents)
    true_alerts, false_alerts = 0, []
    by_rule: dict[str, list[int]] = {}
    for a in alerts:
        owners = {k for e in a.events for k in line_owner.get(e["line"], ())}
        if a.rule == "unsecured_terminal":
            owners |= {
                k
                for k, inc in enumerate(incidents)
                if inc.kind == a.rule
                and inc.terminal_id == a.terminal_id
                and a.evidence["from_day"] <= inc.end.date().isoformat()
                and inc.start.date().isoformat() <= a.evidence["to_day"]
            }
        for k in owners:
            if incidents[k].kind == a.rule:
                hit[k] = True
        stats = by_rule.setdefault(a.rule, [0, 0, 0, 0])
        stats[2] += 1
        if owners:
            true_alerts += 1
            stats[3] += 1
        else:
            false_alerts.append(a)
    for k, inc in enumerate(incidents):
        stats = by_rule.setdefault(inc.kind, [0, 0, 0, 0])
        stats[0] += 1
        stats[1] += hit[k]
    return DetectionQuality(
        incidents=len(incidents),
        detected=sum(hit),
        alerts=len(alerts),
        true_alerts=true_alerts,
        missed=[inc for k, inc in enumerate(incidents) if not hit[k]],
        false_alerts=false_alerts,
        by_rule={r: tuple(v) for r, v in sorted(by_rule.items())},
    )
