"""The labelled incidents of the synthetic year of operation logs.

:func:`kumin.synth.oplog.synth_oplog` builds a year of ordinary terminal work and
then calls :func:`inject_incidents`, which adds misuse of each kind the rules look
for (volume, watch list, off hours, shared terminals without a reservation, …) and
records every incident with its log lines, so that detection can be scored against
labels (:func:`kumin.synth.oplog.evaluate`). Kept apart from the generator so that
each stays readable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from kumin.oplog.context import Reservation, WatchEntry, is_closed_day

if TYPE_CHECKING:
    from kumin.synth.oplog import _Builder


def inject_incidents(
    b: _Builder,
    rng: np.random.Generator,
    calendar: list[dt.date],
    transfer: dt.date,
    op_ids: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    active: np.ndarray,
    terms: list[list[str]],
    watchlist: tuple[WatchEntry, ...],
    checklist: dict[tuple[str, dt.date], bool],
    reservations: list[Reservation],
) -> None:
    """Add labelled misuse of every kind.

    Injected sessions go, where possible, on days the operator is otherwise idle,
    so that each incident is one kind of misuse: business records are filed for
    the lookups unless the misuse is the lookup itself.
    """
    from kumin.synth.oplog import DEPARTMENTS, EXPIRING, POPULATION, SHARED_TERMINALS, _subjects

    start = calendar[0]
    workday = [c.weekday() < 5 and not is_closed_day(c) for c in calendar]
    post = np.array([c >= transfer for c in calendar])

    def dept_on(o: int, i: int) -> int:
        return int(after[o] if post[i] else before[o])

    def pick_day(
        o: int, lo: dt.date | None = None, hi: dt.date | None = None, dept: int | None = None
    ) -> dt.date:
        ok = [
            i
            for i, c in enumerate(calendar)
            if workday[i]
            and dept_on(o, i) >= 0
            and (dept is None or dept_on(o, i) == dept)
            and (lo is None or c >= lo)
            and (hi is None or c <= hi)
        ]
        idle = [i for i in ok if not active[o, i]]
        return calendar[int(rng.choice(idle or ok))]

    def at(day: dt.date, h: int, m: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(h, m))

    def ops_in(depts: Iterable[int]) -> list[int]:
        """Operators who stay in one of ``depts`` the whole year."""
        wanted = set(depts)
        return [o for o in range(len(op_ids)) if before[o] in wanted and after[o] == before[o]]

    def home(o: int, k: int) -> str:
        return terms[k][o % len(terms[k])]

    def fresh(n: int) -> list[str]:
        return _subjects(rng.integers(0, POPULATION, n)).to_list()

    def filed(k: int, subjects: list[str], day: dt.date) -> None:
        b.records.extend((DEPARTMENTS[k].code, s, day) for s in subjects)

    def fn(k: int) -> str:
        return DEPARTMENTS[k].functions[0]

    counters = range(2, 7)  # the five branch offices: never on shared terminals
    my_number = range(7, 15)
    after_transfer = transfer + dt.timedelta(days=20)

    # 1. operators not in the ledger in force
    o = int(rng.choice([o for o in range(len(op_ids)) if after[o] < 0 and before[o] >= 0]))
    k = int(before[o])
    inc = b.incident(
        "unlisted_operator",
        "removed at the April transfer, still operating",
        str(op_ids[o]),
        home(o, k),
        None,
    )
    for _ in range(2):
        day = calendar[
            int(
                rng.choice(
                    [i for i, c in enumerate(calendar) if workday[i] and c >= after_transfer]
                )
            )
        ]
        subs = fresh(3)
        filed(k, subs, day)
        b.session(inc, str(op_ids[o]), home(o, k), at(day, 10, 5), [(s, fn(k)) for s in subs])
    k = int(rng.choice(list(counters)))
    ghost = f"U9{rng.integers(1000, 9999)}"
    day = calendar[int(rng.choice([i for i in range(len(calendar)) if workday[i]]))]
    inc = b.incident("unlisted_operator", "never listed in any ledger", ghost, terms[k][-1], None)
    subs = fresh(4)
    filed(k, subs, day)
    b.session(inc, ghost, terms[k][-1], at(day, 13, 40), [(s, fn(k)) for s in subs])
    moved = [
        o for o in range(len(op_ids)) if after[o] >= 0 and before[o] >= 0 and after[o] != before[o]
    ]
    o = int(rng.choice(moved))
    k_old, k_new = int(before[o]), int(after[o])
    day = pick_day(o, lo=after_transfer)
    inc = b.incident(
        "unlisted_operator",
        "transferred out, used the old department's terminal",
        str(op_ids[o]),
        terms[k_old][0],
        None,
    )
    subs = fresh(3)
    filed(k_new, subs, day)
    b.session(inc, str(op_ids[o]), terms[k_old][0], at(day, 15, 0), [(s, fn(k_new)) for s in subs])

    # 2. shared terminal outside any reservation of the department
    for _ in range(3):
        k = int(rng.choice(list(my_number)))
        o = int(rng.choice(ops_in([k])))
        term = str(rng.choice(SHARED_TERMINALS))
        for _attempt in range(50):
            day = pick_day(o, dept=k)
            if not any(
                r.department == DEPARTMENTS[k].code
                and r.terminal_id == term
                and r.start.date() == day
                for r in reservations
            ):
                break
        inc = b.incident(
            "outside_reservation",
            "shared terminal used without a reservation",
            str(op_ids[o]),
            term,
            None,
        )
        subs = fresh(3)
        filed(k, subs, day)
        b.session(inc, str(op_ids[o]), term, at(day, 14, 10), [(s, fn(k)) for s in subs])

    # 3. outside hours, weekends, holidays
    weekday_holidays = [c for c in calendar if c.weekday() < 5 and is_closed_day(c)]
    saturdays = [c for c in calendar if c.weekday() == 5 and not is_closed_day(c)]
    for kind, hour in (("night", 22), ("weekend", 11), ("holiday", 10)):
        k = int(rng.choice([k for k in counters]))
        o = int(rng.choice(ops_in([k])))
        if kind == "night":
            day = pick_day(o)
        else:
            day = rng.choice(weekday_holidays if kind == "holiday" else saturdays)
        inc = b.incident("off_hours", f"terminal used at {kind}", str(op_ids[o]), home(o, k), None)
        subs = fresh(3)
        filed(k, subs, day)
        b.session(inc, str(op_ids[o]), home(o, k), at(day, hour, 10), [(s, fn(k)) for s in subs])

    # 4. functions without an approved application
    for k_code, function, lo in (
        ("D09", "生活保護", None),
        ("D13", "住民税", None),
        (*EXPIRING, dt.date(transfer.year, 9, 30) + dt.timedelta(days=10)),
    ):
        k = [d.code for d in DEPARTMENTS].index(k_code)
        o = int(rng.choice(ops_in([k])))
        day = pick_day(o, lo=lo, dept=k)
        inc = b.incident(
            "unapproved_function",
            f"{function} used by {k_code} without approval",
            str(op_ids[o]),
            home(o, k),
            None,
        )
        subs = fresh(3)
        filed(k, subs, day)
        b.session(inc, str(op_ids[o]), home(o, k), at(day, 11, 0), [(s, function) for s in subs])

    # 5. one operator's credentials on two terminals at once
    for _ in range(3):
        k = int(rng.choice(list(counters)))
        o = int(rng.choice(ops_in([k])))
        day = pick_day(o)
        t_own, t_other = terms[k][0], terms[k][1]
        inc = b.incident(
            "shared_credentials",
            "a colleague used the operator's login",
            str(op_ids[o]),
            t_other,
            None,
        )
        subs = fresh(12)
        filed(k, subs, day)
        b.session(
            inc, str(op_ids[o]), t_own, at(day, 10, 0), [(s, fn(k)) for s in subs[:8]], step_s=240
        )
        b.session(
            inc,
            str(op_ids[o]),
            t_other,
            at(day, 10, 12),
            [(s, fn(k)) for s in subs[8:]],
            step_s=180,
        )

    # 6. far more lookups than usual: browsing the register
    for _ in range(3):
        k = int(rng.choice(list(counters)))
        o = int(rng.choice(ops_in([k])))
        day = pick_day(o)
        n = int(rng.integers(150, 300))
        inc = b.incident(
            "volume_spike", f"{n} residents browsed in one day", str(op_ids[o]), home(o, k), None
        )
        b.session(
            inc,
            str(op_ids[o]),
            home(o, k),
            at(day, 9, 0),
            [(s, fn(k)) for s in fresh(n)],
            step_s=int(7 * 3600 / n),
        )

    # 7. lookups without business records
    subject = fresh(1)[0]
    depts = rng.choice(list(my_number), 3, replace=False)
    inc = b.incident(
        "no_business_record", "one resident looked up by three departments", None, None, subject
    )
    first = calendar[int(rng.integers(30, len(calendar) - 30))]
    for j, k in enumerate(depts):
        k = int(k)
        o = int(rng.choice(ops_in([k])))
        day = pick_day(o, lo=first + dt.timedelta(days=3 * j), dept=k)
        day = min(day, first + dt.timedelta(days=3 * j + 6)) if day > first else day
        while not workday[(day - start).days]:
            day += dt.timedelta(days=1)
        b.session(inc, str(op_ids[o]), home(o, k), at(day, 15, 20), [(subject, fn(k))])
    cases = (
        ("the 2022 case: an address looked up for a colleague, no business reason", 2, 5),
        ("a resident looked up again and again out of private interest", 4, 7),
        ("a household looked up repeatedly by one operator", 3, 6),
    )
    for desc, occasions, spacing in cases:
        k = int(rng.choice(list(counters)))
        o = int(rng.choice(ops_in([k])))
        subject = fresh(1)[0]
        inc = b.incident("no_business_record", desc, str(op_ids[o]), home(o, k), subject)
        first = pick_day(o, hi=calendar[-40])
        for j in range(occasions):
            day = first + dt.timedelta(days=spacing * j)
            while not workday[(day - start).days]:
                day += dt.timedelta(days=1)
            actions = ("search", "search", "view") if j == 0 else ("view",)
            b.session(
                inc,
                str(op_ids[o]),
                home(o, k),
                at(day, 12, 15 + j),
                [(subject, fn(k))],
                actions=actions,
            )

    # 8. watch-list residents
    for entry in rng.choice(np.array(watchlist, dtype=object), 3, replace=False):
        k = int(rng.choice(list(counters)))
        o = int(rng.choice(ops_in([k])))
        day = pick_day(o)
        inc = b.incident(
            "watch_list",
            f"watch-list resident ({entry.reason}) looked up",
            str(op_ids[o]),
            home(o, k),
            entry.subject,
        )
        b.session(inc, str(op_ids[o]), home(o, k), at(day, 16, 0), [(entry.subject, fn(k))])

    # 9. terminals not fixed by their security wire
    for k in rng.choice(list(range(0, 8)), 2, replace=False):
        term = terms[int(k)][0]
        i = int(rng.integers(10, len(calendar) - 10))
        flagged = [c for c in calendar[i : i + 7] if (term, c) in checklist][:3]
        for c in flagged:
            checklist[(term, c)] = False
        b.incident(
            "unsecured_terminal", "checklist: not fixed by a security wire", None, term, None
        )
