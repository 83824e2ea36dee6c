"""Synthetic My Number card and Juki-net records that reproduce the source report.

:func:`synthetic_card_records` builds, from 2016-01 (Juki-net transactions from
each scheme's start), the records of a Setagaya-like ward such that
:func:`kumin.cards.figures.security_figures` gives exactly every figure of sections
1(2), 3 and 4 of the report 「住民基本台帳ネットワークシステム及びマイナンバー制度の
セキュリティ対策の実施状況等について」 (令和4年8月26日) for FY2021, and its FY2020
column. The figures are *computed* from the records; the targets below only steer
how many records of each kind fall in each period.

How the exact counts are reached: every card belongs to one of nine categories by
the period of each step (≤ FY2020, FY2021, not yet), with the category sizes solved
from the report's cumulative counts; within a period the dates follow the ward's
real monthly issuance (the Ministry's snapshots, see ``kumin.synth.card_figures``) and the
windows calendar. State changes, certificates and transactions are drawn per
period in the same way. Any seed gives the same figures; the seed moves the dates.

Example
-------
>>> from kumin.synth.cards import synthetic_card_records
>>> from kumin.cards.figures import issuance_figures
>>> import datetime as dt
>>> records = synthetic_card_records(seed=0)  # doctest: +SKIP
>>> issuance_figures(records, dt.date(2022, 3, 31)).issued  # doctest: +SKIP
439506
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import polars as pl

from kumin.cards.national import code6
from kumin.cards.records import (
    JUKI_SCHEME_START,
    SCHEME_START,
    VISIT_AT_APPLICATION_START,
    CardEvent,
    CardRecords,
    CertificateAction,
    CertificateType,
    Channel,
    JukiKind,
    Method,
    Origin,
    RevokeReason,
    conform,
    inquiry_functions,
)
from kumin.cards.windows import DEFAULT_WINDOWS, Window, is_public_holiday, is_year_end_break
from kumin.synth.card_figures import (
    NOT_ITEMISED,
    NOT_ITEMISED_COUNTS,
    POPULATION_ANCHORS,
    SOURCE_REPORT,
)
from kumin.synth.card_figures import SETAGAYA_ISSUED as _SETAGAYA_ISSUED

# Free choices (not in the report) that shape the categories; any values keeping
# every category non-negative reproduce the report.
PENDING_2020_PREPARED_2021 = 57_000  # applied ≤ FY2020, prepared in FY2021
OF_WHICH_COLLECTED_2021 = 52_000  # ... and collected in FY2021
UNCOLLECTED_2020_COLLECTED_2021 = 30_000  # prepared ≤ FY2020, collected in FY2021
JUKI_CARD_CONTINUED_USE_BEFORE_2016 = 8_631  # continued use of 住基カード, 2012-07..2015-12
SIGNATURE_SHARE = 0.85  # cards issued with a signature certificate (15 and over, not declined)
MOVED_IN_SIGNATURE_REISSUE = 0.6  # moved-in cards whose signature certificate is re-issued here
AT_APPLICATION_SHARE = 0.10  # applications taken at a window once the method exists

_EPOCH = dt.date(1970, 1, 1)
NA = -1
START = dt.date(2003, 1, 1)  # calendar start (wide-area certificates from 2003-08)
HORIZON = dt.date(2022, 3, 31)


def _day(d: dt.date) -> int:
    return (d - _EPOCH).days


T0, E20, S21, E21 = (
    _day(d) for d in (SCHEME_START, dt.date(2021, 3, 31), dt.date(2021, 4, 1), HORIZON)
)
D21, D22 = S21, E21 + 1  # the two "April 1" status dates
FY_BOUNDS = {2020: (_day(dt.date(2020, 4, 1)), E20), 2021: (S21, E21)}


class _Calendar:
    """Day masks and window tables from :data:`START` to :data:`HORIZON`."""

    def __init__(self, windows: tuple[Window, ...]):
        self.first = _day(START)
        n = _day(HORIZON) - self.first + 1
        days = [START + dt.timedelta(days=i) for i in range(n)]
        # weekday first: a holiday on a weekend changes nothing here, and the
        # holiday check is the slow part of building the calendar
        self.business = np.array(
            [
                d.weekday() < 5 and not is_year_end_break(d) and not is_public_holiday(d)
                for d in days
            ]
        )
        self.codes = [w.code for w in windows]
        # windows matter for cards only, i.e. from 2016; earlier days stay closed
        closed = [False] * len(windows)
        open_ = np.array(
            [[w.is_open(d) for w in windows] if d >= SCHEME_START else closed for d in days]
        )
        handles = np.array([[m in w.methods for w in windows] for m in Method])
        self.issuance_windows = open_ & handles[0]
        self.application_windows = open_ & handles[1]
        before = np.array([d < VISIT_AT_APPLICATION_START for d in days])
        self.application_windows[before] = False
        self.issuance_open = self.issuance_windows.any(axis=1)
        self.any_open = open_.any(axis=1)
        idx = np.arange(n)
        nxt = np.where(self.issuance_open, idx, n)
        self.next_issuance_open = np.minimum.accumulate(nxt[::-1])[::-1]
        cum = np.interp(
            idx + self.first,
            [_day(dt.date.fromisoformat(d)) for d, _ in _SETAGAYA_ISSUED],
            [c for _, c in _SETAGAYA_ISSUED],
            left=0,
        )
        self.issuance_rate = np.maximum(np.diff(cum, prepend=cum[0]), 0) + 1e-9
        self.register_size = cum + 1.0

    def i(self, day: np.ndarray | int) -> np.ndarray:
        return np.asarray(day) - self.first

    def sample(
        self,
        rng: np.random.Generator,
        weights: np.ndarray,
        lo: np.ndarray | int,
        hi: np.ndarray | int,
        n: int,
    ) -> np.ndarray:
        """``n`` days in [lo, hi] (absolute days, inclusive) drawn with ``weights``."""
        cdf = np.cumsum(weights)
        lo_i = np.broadcast_to(self.i(lo), (n,))
        hi_i = np.broadcast_to(self.i(hi), (n,))
        f_lo = np.where(lo_i > 0, cdf[np.maximum(lo_i - 1, 0)], 0.0)
        f_hi = cdf[hi_i]
        if not (f_hi > f_lo).all():
            raise AssertionError("a sampling window has no weight")
        u = f_lo + rng.random(n) * (f_hi - f_lo)
        return np.clip(np.searchsorted(cdf, u, side="left"), lo_i, hi_i) + self.first

    def pick_window(
        self, rng: np.random.Generator, table: np.ndarray, days: np.ndarray
    ) -> np.ndarray:
        """A window code open on each day (from ``table``: day × window booleans)."""
        rows = table[self.i(days)]
        counts = rows.sum(axis=1)
        if not (counts > 0).all():
            raise AssertionError("no window open on a sampled day")
        k = (rng.random(len(days)) * counts).astype(int)
        col = (np.cumsum(rows, axis=1) > k[:, None]).argmax(axis=1)
        return np.array(self.codes, dtype=object)[col]


def _back(rng, base, minlag, maxlag, lo, hi) -> np.ndarray:
    """A day before ``base`` by minlag..maxlag days, inside [lo, hi], short lags likelier."""
    a = np.maximum(lo, base - maxlag)
    b = np.minimum(hi, base - minlag)
    if not (a <= b).all():
        raise AssertionError("empty backward step")
    return b - ((b - a + 1) * rng.random(len(base)) ** 2).astype(np.int64)


def _fwd(rng, base, minlag, maxlag, lo, hi) -> np.ndarray:
    a = np.maximum(lo, base + minlag)
    b = np.minimum(hi, base + maxlag)
    if not (a <= b).all():
        raise AssertionError("empty forward step")
    return a + ((b - a + 1) * rng.random(len(base)) ** 2).astype(np.int64)


def _decay(cal: _Calendar, start: int, tau: float) -> np.ndarray:
    x = np.arange(len(cal.business)) + cal.first - start
    return np.where(x >= 0, np.exp(-np.maximum(x, 0) / tau), 0.0) + 1e-12


def _recent(cal: _Calendar, end: int, tau: float) -> np.ndarray:
    x = end - (np.arange(len(cal.business)) + cal.first)
    return np.where(x >= 0, np.exp(-np.maximum(x, 0) / tau), 0.0) + 1e-12


# --- cards issued here ---------------------------------------------------------------


def _issued_here(rng: np.random.Generator, cal: _Calendar) -> dict[str, np.ndarray]:
    rep = SOURCE_REPORT["issuance"]
    a20, p20, i20 = (rep[2020][k] for k in ("applications", "prepared", "issued"))
    a21, p21, i21 = (rep[2021][k] for k in ("applications", "prepared", "issued"))
    k, k1, m = PENDING_2020_PREPARED_2021, OF_WHICH_COLLECTED_2021, UNCOLLECTED_2020_COLLECTED_2021
    c7 = i21 - i20 - m - k1
    c8 = (p21 - p20) - (i21 - i20 - m) - (k - k1)
    sizes = {
        "c1": i20,
        "c2": m,
        "c3": p20 - i20 - m,
        "c4": k1,
        "c5": k - k1,
        "c6": a20 - p20 - k,
        "c7": c7,
        "c8": c8,
        "c9": (a21 - a20) - c7 - c8,
    }
    if min(sizes.values()) < 0:
        raise AssertionError(f"negative card category: {sizes}")
    open_rate = cal.issuance_rate * cal.issuance_open
    parts = []

    def add(n, applied, prepared=None, issued=None):
        na = np.full(n, NA, dtype=np.int64)
        parts.append(
            (applied, na if prepared is None else prepared, na if issued is None else issued)
        )

    def applied_before(prepared, lo=T0, hi=E21, maxlag=120):
        return _back(rng, prepared, 3, maxlag, lo, hi)

    # c1: applied, prepared and issued by the end of FY2020
    n = sizes["c1"]
    iss = cal.sample(rng, open_rate, T0 + 14, E20, n)
    prep = _back(rng, iss, 1, 60, T0 + 3, E20)
    add(n, applied_before(prep), prep, iss)
    # FY2021 handovers follow the ward's real monthly issuance; the cards prepared
    # earlier (c2, c4) take the earlier of those dates, with some spread
    n2, n4, n7 = sizes["c2"], sizes["c4"], sizes["c7"]
    iss = np.sort(cal.sample(rng, open_rate, S21, E21, n2 + n4 + n7))
    key = iss + rng.exponential(60, len(iss))
    key[iss < S21 + 7] = -np.inf  # too early for a card applied for in FY2021
    by_key = np.argsort(key, kind="stable")
    early, late = iss[by_key[: n2 + n4]], iss[by_key[n2 + n4 :]]
    can_be_c4 = np.flatnonzero(early > S21)
    c4_idx = rng.choice(can_be_c4, n4, replace=False)
    is_c4 = np.zeros(len(early), bool)
    is_c4[c4_idx] = True
    # c2: prepared by FY2020, collected in FY2021
    iss2 = early[~is_c4]
    prep = _back(rng, iss2, 7, 700, T0 + 3, E20)
    add(n2, applied_before(prep), prep, iss2)
    # c3: prepared by FY2020, never collected (cancelled, moved out, died, …)
    n = sizes["c3"]
    prep = cal.sample(rng, cal.issuance_rate, T0 + 3, E20, n)
    add(n, applied_before(prep), prep)
    # c4: applied by FY2020, prepared early in FY2021 and collected in FY2021
    iss4 = early[is_c4]
    prep = _back(rng, iss4, 1, 365, S21, S21 + 75)
    add(n4, _back(rng, prep, 3, 150, T0, E20), prep, iss4)
    # c5: applied by FY2020, prepared early in FY2021, not collected
    n = sizes["c5"]
    prep = cal.sample(rng, _decay(cal, S21, 30), S21, S21 + 75, n)
    add(n, _back(rng, prep, 3, 150, T0, E20), prep)
    # c6: applied by FY2020, never prepared (application withdrawn or rejected)
    n = sizes["c6"]
    add(n, cal.sample(rng, cal.issuance_rate, T0, E20, n))
    # c7: applied, prepared and issued in FY2021
    prep = _back(rng, late, 1, 60, S21 + 3, E21)
    add(n7, applied_before(prep, lo=S21), prep, late)
    # c8: applied and prepared in FY2021, awaiting collection (recent ones mostly)
    n = sizes["c8"]
    prep = cal.sample(rng, _recent(cal, E21, 60), S21 + 3, E21, n)
    add(n, applied_before(prep, lo=S21), prep)
    # c9: applied in FY2021, card still being made by J-LIS
    n = sizes["c9"]
    add(n, cal.sample(rng, _recent(cal, E21, 35), S21, E21, n))

    applied = np.concatenate([p[0] for p in parts])
    prepared = np.concatenate([p[1] for p in parts])
    issued = np.concatenate([p[2] for p in parts])
    order = np.lexsort((rng.random(len(applied)), applied))
    return {"applied": applied[order], "prepared": prepared[order], "issued": issued[order]}


def _methods(rng: np.random.Generator, cal: _Calendar, c: dict[str, np.ndarray]) -> None:
    """Method, channel, window and the mail steps of visit-at-application cards."""
    n = len(c["applied"])
    applied_i = cal.i(c["applied"])
    at_app = (
        (c["applied"] >= _day(VISIT_AT_APPLICATION_START))
        & cal.application_windows[applied_i].any(axis=1)
        & (rng.random(n) < AT_APPLICATION_SHARE)
    )
    web_era = c["applied"] >= _day(dt.date(2020, 4, 1))
    u = rng.random(n)
    channel = np.where(
        web_era,
        np.where(u < 0.3, "mail", np.where(u < 0.8, "web", "photo_booth")),
        np.where(u < 0.5, "mail", np.where(u < 0.8, "web", "photo_booth")),
    )
    channel = np.where(at_app, Channel.WINDOW.value, channel).astype(object)
    method = np.where(at_app, Method.AT_APPLICATION.value, Method.AT_ISSUANCE.value).astype(object)
    window = np.full(n, None, dtype=object)
    handed = (~at_app) & (c["issued"] != NA)
    window[handed] = cal.pick_window(rng, cal.issuance_windows, c["issued"][handed])
    window[at_app] = cal.pick_window(rng, cal.application_windows, c["applied"][at_app])
    mailed = np.full(n, NA, dtype=np.int64)
    returned = np.full(n, NA, dtype=np.int64)
    delivered = at_app & (c["issued"] != NA)
    lag = rng.integers(1, 4, n)
    mailed[delivered] = np.maximum(c["prepared"], c["issued"] - lag)[delivered]
    # prepared, not delivered: about half came back as undeliverable, the rest in transit
    waiting = at_app & (c["issued"] == NA) & (c["prepared"] != NA)
    send = np.minimum(c["prepared"] + lag, E21)
    mailed[waiting] = send[waiting]
    back = send + rng.integers(8, 15, n)
    came_back = waiting & (back <= E21) & (rng.random(n) < 0.5)
    returned[came_back] = back[came_back]
    c.update(method=method, channel=channel, window=window, mailed=mailed, returned=returned)


# --- picking cards for events --------------------------------------------------------


class _Register:
    """The cards on the register: start day (issued or moved in) and end day."""

    NEVER = np.iinfo(np.int64).max

    def __init__(self, start: np.ndarray):
        self.start = start
        on = start != NA
        self.order = np.flatnonzero(on)[np.argsort(start[on], kind="stable")]
        self.sorted_start = start[self.order]
        self.end = np.full(len(start), self.NEVER, dtype=np.int64)
        self.end_reason = np.full(len(start), None, dtype=object)
        self.end_event = np.full(len(start), None, dtype=object)

    def pick(
        self,
        rng: np.random.Generator,
        latest_start: np.ndarray,
        ok: Callable[[np.ndarray, np.ndarray], np.ndarray],
        unique: bool,
    ) -> np.ndarray:
        """For each event, a card started by ``latest_start`` with ``ok(card, event)``."""
        out = np.full(len(latest_start), -1, dtype=np.int64)
        todo = np.arange(len(latest_start))
        for _ in range(500):
            if not todo.size:
                return out
            count = np.searchsorted(self.sorted_start, latest_start[todo], side="right")
            if not (count > 0).all():
                raise AssertionError("no card started before an event")
            cand = self.order[(rng.random(todo.size) * count).astype(np.int64)]
            good = ok(cand, todo)
            if unique:
                good &= ~np.isin(cand, out[out >= 0])
                idx = np.flatnonzero(good)
                _, first = np.unique(cand[idx], return_index=True)
                keep = np.zeros(todo.size, bool)
                keep[idx[first]] = True
                good = keep
            out[todo[good]] = cand[good]
            todo = todo[~good]
        raise AssertionError("could not place every event on a card")


def _end_cards(
    rng, reg: _Register, days: np.ndarray, event: str, reasons: np.ndarray, min_age: np.ndarray
) -> np.ndarray:
    free = reg.end == reg.NEVER

    def ok(cand, ev):
        return free[cand]

    picked = reg.pick(rng, days - min_age, ok, unique=True)
    reg.end[picked] = days
    reg.end_event[picked] = event
    reg.end_reason[picked] = reasons
    free[picked] = False
    return picked


_REVOKE_SHARES = {  # reissue, death, move_out, return, expiry
    "before": (0.30, 0.25, 0.20, 0.20, 0.05),
    2021: (0.25, 0.20, 0.15, 0.15, 0.25),
}


def _split(total: int, shares: tuple[float, ...]) -> list[int]:
    counts = [int(total * s) for s in shares]
    counts[0] += total - sum(counts)
    return counts


def _status_events(rng, cal, c, reg: _Register, n_here: int, moved_in_days: np.ndarray):
    """Revocations (with re-issues), moves out and suspensions matching the report."""
    st = SOURCE_REPORT["status"]
    d21, d22 = dt.date(2021, 4, 1), dt.date(2022, 4, 1)
    i20 = SOURCE_REPORT["issuance"][2020]["issued"]
    i21 = SOURCE_REPORT["issuance"][2021]["issued"]
    m_by_21 = int((moved_in_days <= E20).sum())
    m_by_22 = len(moved_in_days)
    revoked = {"before": st[d21]["revoked"], 2021: st[d22]["revoked"] - st[d21]["revoked"]}
    out_by_21 = i20 + m_by_21 - st[d21]["valid"] - st[d21]["revoked"]
    out_by_22 = i21 + m_by_22 - st[d22]["valid"] - st[d22]["revoked"]
    moved_out = {"before": out_by_21, 2021: out_by_22 - out_by_21}
    periods = {"before": (T0 + 60, E20), 2021: (S21, E21)}
    reissue_of = np.full(len(reg.start), NA, dtype=np.int64)
    suspensions: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # card, suspended, resumed
    weights = cal.register_size * cal.business
    issued = c["issued"]
    for period, (lo, hi) in periods.items():
        n_re, n_death, n_move, n_ret, n_exp = _split(revoked[period], _REVOKE_SHARES[period])
        # re-issues: a new card issued in the period replaces an older one of the same person
        new_pool = np.flatnonzero((issued[:n_here] >= lo) & (issued[:n_here] <= hi))
        new = rng.choice(new_pool, n_re, replace=False)
        days = issued[new]
        old = _end_cards(
            rng,
            reg,
            days,
            CardEvent.REVOKED.value,
            np.full(n_re, RevokeReason.REISSUE.value, dtype=object),
            np.full(n_re, 30),
        )
        reissue_of[new] = old + 1
        lost = rng.random(n_re) < 0.7  # most re-issues follow a lost card, suspended first
        s = np.maximum(days - rng.integers(0, 31, n_re), lo)
        suspensions.append((old[lost], s[lost], np.full(lost.sum(), NA)))
        # the other revocations and the moves out, on business days
        for reason, n in (
            (RevokeReason.DEATH, n_death),
            (RevokeReason.MOVE_OUT, n_move),
            (RevokeReason.RETURN, n_ret),
            (RevokeReason.EXPIRY, n_exp),
        ):
            first = max(lo, _day(dt.date(2020, 2, 1))) if reason is RevokeReason.EXPIRY else lo
            days = cal.sample(rng, weights, first, hi, n)
            age = 4 * 365 if reason is RevokeReason.EXPIRY else 1
            _end_cards(
                rng,
                reg,
                days,
                CardEvent.REVOKED.value,
                np.full(n, reason.value, dtype=object),
                np.full(n, age),
            )
        n = moved_out[period]
        days = cal.sample(rng, weights, lo, hi, n)
        _end_cards(
            rng,
            reg,
            days,
            CardEvent.MOVED_OUT.value,
            np.full(n, None, dtype=object),
            np.ones(n, dtype=np.int64),
        )
    # suspended on each April 1: valid that day and still valid at the horizon
    taken = np.zeros(len(reg.start), bool)

    def suspend(n, lo, hi, resume_lo=None, resume_hi=None):
        days = cal.sample(rng, cal.any_open + 1e-9, lo, hi, n)

        def ok(cand, ev):
            return (reg.end[cand] == reg.NEVER) & ~taken[cand]

        cards = reg.pick(rng, days - 1, ok, unique=True)
        taken[cards] = True
        resumed = np.full(n, NA) if resume_lo is None else rng.integers(resume_lo, resume_hi + 1, n)
        suspensions.append((cards, days, resumed))

    suspend(st[d21]["suspended"], E20 - 59, E20, D21, D21 + 90)
    suspend(st[d22]["suspended"], E21 - 89, E21)
    # suspended and resumed in between, never across an April 1
    n = 6_000
    days = cal.sample(rng, weights, T0 + 60, E21, n)
    boundary = np.where(days < D21, D21, D22)
    resumed = np.minimum(days + rng.integers(0, 46, n), boundary - 1)

    def ok_hist(cand, ev):
        return (reg.end[cand] > resumed[ev]) & ~taken[cand]

    cards = reg.pick(rng, days - 1, ok_hist, unique=True)
    suspensions.append((cards, days, resumed))
    return reissue_of, suspensions


# --- certificates ------------------------------------------------------------------

_CERT_SHARES = {  # renewal, reissue, pin_reset among the certificates beyond new cards
    "before": (0.0, 0.6, 0.4),
    2020: (0.10, 0.35, 0.55),
    2021: (0.45, 0.30, 0.25),
}
_EXTRA_ACTIONS = (CertificateAction.RENEWAL, CertificateAction.REISSUE, CertificateAction.PIN_RESET)


def _certificates(rng, cal, c, reg: _Register, n_here: int, moved_in_days) -> pl.DataFrame:
    issued = c["issued"]
    have = np.flatnonzero(issued != NA)
    signature_new = have[rng.random(len(have)) < SIGNATURE_SHARE]
    moved = np.arange(n_here, len(reg.start))
    moved_sig = moved[rng.random(len(moved)) < MOVED_IN_SIGNATURE_REISSUE]
    frames = [
        (have, issued[have], CertificateType.USER_AUTH, CertificateAction.NEW),
        (signature_new, issued[signature_new], CertificateType.SIGNATURE, CertificateAction.NEW),
        (moved_sig, reg.start[moved_sig], CertificateType.SIGNATURE, CertificateAction.REISSUE),
    ]
    periods = {"before": (T0, FY_BOUNDS[2020][0] - 1), 2020: FY_BOUNDS[2020], 2021: FY_BOUNDS[2021]}
    surge = np.ones(len(cal.business))  # PINs forgotten for the 2020 special cash payment
    surge[cal.i(_day(dt.date(2020, 5, 1))) : cal.i(_day(dt.date(2020, 7, 1)))] = 4.0
    weights = cal.register_size * cal.any_open + 1e-9
    for cert_type in CertificateType:
        fy20, fy21, total = SOURCE_REPORT["certificates"][cert_type.value]
        targets = {"before": total - fy20 - fy21, 2020: fy20, 2021: fy21}
        for period, (lo, hi) in periods.items():
            done = sum(
                int(((d >= lo) & (d <= hi)).sum()) for _, d, t, _ in frames if t is cert_type
            )
            extra = targets[period] - done
            if extra < 0:
                raise AssertionError(f"too many new {cert_type} certificates in {period}")
            for action, n in zip(_EXTRA_ACTIONS, _split(extra, _CERT_SHARES[period]), strict=True):
                if action is CertificateAction.RENEWAL and n:
                    # a renewal needs a card near its certificate's fifth birthday
                    lo_a = max(lo, T0 + 4 * 365 + 60)
                    days = cal.sample(rng, weights, lo_a, hi, n)
                    age = 4 * 365
                else:
                    w = weights * surge if action is CertificateAction.PIN_RESET else weights
                    days = cal.sample(rng, w, max(lo, T0 + 30), hi, n)
                    age = 7
                cards = reg.pick(
                    rng,
                    days - age,
                    lambda cand, ev, days=days: reg.end[cand] > days[ev],
                    unique=False,
                )
                frames.append((cards, days, cert_type, action))
    return (
        pl.DataFrame(
            {
                "card_id": np.concatenate([f[0] for f in frames]) + 1,
                "date": np.concatenate([f[1] for f in frames]),
                "cert_type": np.concatenate(
                    [np.full(len(f[0]), f[2].value, dtype=object) for f in frames]
                ),
                "action": np.concatenate(
                    [np.full(len(f[0]), f[3].value, dtype=object) for f in frames]
                ),
            }
        )
        .with_columns(pl.col("date").cast(pl.Int32).cast(pl.Date))
        .sort("date", "card_id")
    )


# --- Juki-net transactions and inquiries ----------------------------------------------

_NEIGHBOURS = tuple(
    code6(c)
    for c in (
        "13110",
        "13113",
        "13114",
        "13115",
        "13109",
        "13104",
        "13208",
        "13219",
        "13204",
        "14100",
        "14130",
        "11100",
        "12100",
        "27100",
        "13201",
    )
)


def _juki(rng, cal, residents: np.ndarray, moved_in_days, moved_in_residents) -> pl.DataFrame:
    weights = cal.business.astype(float) + 1e-12
    parts = []
    for kind in JukiKind:
        fy20, fy21, total = SOURCE_REPORT["juki"][kind.value]
        start = _day(JUKI_SCHEME_START[kind])
        plan = [
            (start, FY_BOUNDS[2020][0] - 1, total - fy20 - fy21),
            (*FY_BOUNDS[2020], fy20),
            (*FY_BOUNDS[2021], fy21),
        ]
        if kind is JukiKind.CONTINUED_USE:
            # from 2016 each continued use is a card that moved in; before, a 住基カード
            n = JUKI_CARD_CONTINUED_USE_BEFORE_2016
            days = cal.sample(rng, weights, start, T0 - 1, n)
            parts.append((days, kind, rng.choice(residents, n), np.full(n, None, dtype=object)))
            parts.append(
                (
                    moved_in_days,
                    kind,
                    moved_in_residents,
                    rng.choice(np.array(_NEIGHBOURS, dtype=object), len(moved_in_days)),
                )
            )
            continue
        for lo, hi, n in plan:
            days = cal.sample(rng, weights, lo, hi, n)
            ours = kind is not JukiKind.WIDE_AREA_ISSUED
            who = rng.choice(residents, n) if ours else np.full(n, NA)
            parts.append((days, kind, who, rng.choice(np.array(_NEIGHBOURS, dtype=object), n)))
    frame = pl.DataFrame(
        {
            "date": np.concatenate([p[0] for p in parts]),
            "kind": np.concatenate([np.full(len(p[0]), p[1].value, dtype=object) for p in parts]),
            "resident_no": np.concatenate([p[2] for p in parts]),
            "other_code6": np.concatenate([p[3] for p in parts]),
        }
    )
    return frame.with_columns(
        pl.col("date").cast(pl.Int32).cast(pl.Date),
        pl.when(pl.col("resident_no") != NA).then(pl.col("resident_no")),
    ).sort("date")


def _inquiry_rng(seed: int) -> np.random.Generator:
    """The inquiries' own stream: :func:`synthetic_inquiries` draws them without the
    rest of the ward (the demo needs them before its operation logs)."""
    return np.random.default_rng((seed, 4))


class _BusinessDays(_Calendar):
    """Only the business days of :class:`_Calendar` (all the inquiries need)."""

    def __init__(self) -> None:  # the windows' tables are the slow part: skipped
        self.first = _day(START)
        days = (START + dt.timedelta(days=i) for i in range(_day(HORIZON) - self.first + 1))
        self.business = np.array(
            [
                d.weekday() < 5 and not is_year_end_break(d) and not is_public_holiday(d)
                for d in days
            ]
        )


def synthetic_inquiries(seed: int = 0) -> pl.DataFrame:
    """The identity inquiries of :func:`synthetic_card_records` (the same rows), alone."""
    return conform(_inquiries(_inquiry_rng(seed), _BusinessDays()), "inquiries")


def _inquiries(rng, cal) -> pl.DataFrame:
    weights = cal.business.astype(float) + 1e-12
    functions = {f.code: f for f in inquiry_functions(extra=(NOT_ITEMISED,))}
    rows: dict[str, list] = {"date": [], "department": [], "function": [], "operator": []}
    plan = {**SOURCE_REPORT["inquiries"], NOT_ITEMISED.code: NOT_ITEMISED_COUNTS}
    for dept_no, (code, counts) in enumerate(plan.items()):
        fn = functions[code]
        operators = [f"U{dept_no + 1:02d}{k:02d}" for k in range(1, 2 + min(6, counts[1] // 500))]
        for fy, n in zip((2020, 2021), counts, strict=True):
            days = cal.sample(rng, weights, *FY_BOUNDS[fy], n) if n else np.array([], int)
            rows["date"].extend(days.tolist())
            rows["department"].extend([fn.department] * n)
            rows["function"].extend([code] * n)
            rows["operator"].extend(rng.choice(operators, n).tolist() if n else [])
    return (
        pl.DataFrame(
            rows,
            schema={
                "date": pl.Int32,
                "department": pl.Utf8,
                "function": pl.Utf8,
                "operator": pl.Utf8,
            },
        )
        .with_columns(pl.col("date").cast(pl.Date))
        .sort("date")
    )


def population_frame() -> pl.DataFrame:
    """Population on the first of each month, 2016-01 .. 2022-04 (see POPULATION_ANCHORS)."""
    months = [
        dt.date(y, m, 1)
        for y in range(2016, 2023)
        for m in range(1, 13)
        if dt.date(y, m, 1) <= dt.date(2022, 4, 1)
    ]
    xs = [_day(d) for d, _ in POPULATION_ANCHORS]
    ys = [p for _, p in POPULATION_ANCHORS]
    values = np.rint(np.interp([_day(d) for d in months], xs, ys)).astype(np.int64)
    return pl.DataFrame(
        {"date": months, "population": values}, schema={"date": pl.Date, "population": pl.Int64}
    )


def _text(values: np.ndarray) -> pl.Series:
    """An object array of str / None as a string column (polars would keep Object)."""
    return pl.Series(values.tolist(), dtype=pl.Utf8)


def _date_col(name: str) -> pl.Expr:
    return pl.when(pl.col(name) != NA).then(pl.col(name)).cast(pl.Int32).cast(pl.Date)


def synthetic_card_records(
    seed: int = 0, windows: tuple[Window, ...] = DEFAULT_WINDOWS
) -> CardRecords:
    """Card and Juki-net records reproducing the source report for FY2020 and FY2021.

    Parameters
    ----------
    seed : int
        Moves the dates and choices; the report's figures come out the same.
    windows : tuple of Window
        The windows whose calendar the issuance dates follow.

    Returns
    -------
    CardRecords
        About 0.58 M cards, 1.15 M certificate events, 0.16 M Juki-net
        transactions and 40,110 inquiries, dated 2003-08 (wide-area) / 2012-07
        (special moves) / 2016-01 (cards) to 2022-03-31.
    """
    rng = np.random.default_rng(seed)
    cal = _Calendar(tuple(windows))
    c = _issued_here(rng, cal)
    _methods(rng, cal, c)
    n_here = len(c["applied"])
    # cards moved in on continued use: one per continued-use transaction since 2016
    cu = SOURCE_REPORT["juki"]["continued_use"]
    weights = cal.business * cal.register_size
    moved_in_days = np.sort(
        np.concatenate(
            [
                cal.sample(
                    rng,
                    weights,
                    T0,
                    FY_BOUNDS[2020][0] - 1,
                    cu[2] - cu[0] - cu[1] - JUKI_CARD_CONTINUED_USE_BEFORE_2016,
                ),
                cal.sample(rng, weights, *FY_BOUNDS[2020], cu[0]),
                cal.sample(rng, weights, *FY_BOUNDS[2021], cu[1]),
            ]
        )
    )
    n_total = n_here + len(moved_in_days)
    start = np.concatenate([c["issued"], moved_in_days])
    reg = _Register(start)
    residents = rng.permutation(np.arange(1_000_001, 1_000_001 + n_total + 400_000))
    resident_no = residents[:n_total].copy()
    reissue_of, suspensions = _status_events(rng, cal, c, reg, n_here, moved_in_days)
    has_old = reissue_of != NA
    for _ in range(10):  # a re-issued card may itself be replaced later: follow the chain
        resident_no[has_old] = resident_no[reissue_of[has_old] - 1]

    none_moved = np.full(len(moved_in_days), None, dtype=object)
    na_moved = np.full(len(moved_in_days), NA, dtype=np.int64)
    cards = pl.DataFrame(
        {
            "card_id": np.arange(1, n_total + 1),
            "resident_no": resident_no,
            "origin": np.concatenate(
                [
                    np.full(n_here, Origin.ISSUED_HERE.value, dtype=object),
                    np.full(len(moved_in_days), Origin.MOVED_IN.value, dtype=object),
                ]
            ),
            "method": np.concatenate([c["method"], none_moved]),
            "channel": np.concatenate([c["channel"], none_moved]),
            "applied_on": np.concatenate([c["applied"], na_moved]),
            "prepared_on": np.concatenate([c["prepared"], na_moved]),
            "mailed_on": np.concatenate([c["mailed"], na_moved]),
            "returned_on": np.concatenate([c["returned"], na_moved]),
            "issued_on": np.concatenate([c["issued"], na_moved]),
            "window": np.concatenate([c["window"], none_moved]),
            "reissue_of": reissue_of,
        },
        strict=False,
    ).with_columns(
        *(
            _date_col(n)
            for n in ("applied_on", "prepared_on", "mailed_on", "returned_on", "issued_on")
        ),
        pl.when(pl.col("reissue_of") != NA).then(pl.col("reissue_of")).alias("reissue_of"),
    )

    ended = np.flatnonzero(reg.end != reg.NEVER)
    moved = np.arange(n_here, n_total)
    ev_parts = [
        (moved, moved_in_days, CardEvent.MOVED_IN.value, np.full(len(moved), None, dtype=object)),
        (ended, reg.end[ended], reg.end_event[ended], reg.end_reason[ended]),
    ]
    for cards_s, days_s, resumed in suspensions:
        ev_parts.append(
            (cards_s, days_s, CardEvent.SUSPENDED.value, np.full(len(cards_s), None, dtype=object))
        )
        back = resumed != NA
        ev_parts.append(
            (
                cards_s[back],
                resumed[back],
                CardEvent.RESUMED.value,
                np.full(back.sum(), None, dtype=object),
            )
        )
    card_events = (
        pl.DataFrame(
            {
                "card_id": np.concatenate([p[0] for p in ev_parts]) + 1,
                "date": np.concatenate([p[1] for p in ev_parts]),
                "event": np.concatenate(
                    [np.broadcast_to(np.asarray(p[2], dtype=object), len(p[0])) for p in ev_parts]
                ),
                "reason": _text(np.concatenate([p[3] for p in ev_parts])),
            }
        )
        .with_columns(pl.col("date").cast(pl.Int32).cast(pl.Date))
        .sort("date", "card_id", maintain_order=True)
    )
    certificates = _certificates(rng, cal, c, reg, n_here, moved_in_days)
    juki = _juki(rng, cal, residents[n_total:], moved_in_days, resident_no[n_here:])
    return CardRecords(
        cards=conform(cards, "cards"),
        card_events=conform(card_events, "card_events"),
        certificates=conform(certificates, "certificates"),
        juki_transactions=conform(juki, "juki_transactions"),
        inquiries=conform(_inquiries(_inquiry_rng(seed), cal), "inquiries"),
        population=population_frame(),
    )
