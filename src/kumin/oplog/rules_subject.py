"""Detection rules about residents looked up: volume, business records, watch list.

Same contract as :mod:`kumin.oplog.rules`: ``rule(events, context) -> list[Alert]``
over the frame :func:`kumin.oplog.rules.prepare_events` returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from kumin.oplog.context import GovernanceContext
from kumin.oplog.logs import LOOKUP_ACTIONS
from kumin.oplog.rules import Alert, _events_list, _group, severity_of

MAD_SCALE = 1.4826  # MAD of a normal distribution -> its standard deviation


def _lookups(ev: pl.DataFrame) -> pl.LazyFrame:
    """The lookups of residents, lazily: callers read only the columns they need."""
    cols = ["ts", "day", "operator_id", "terminal_id", "home", "subject", "file", "line"]
    return (
        ev.lazy()
        .filter(pl.col("action").is_in(LOOKUP_ACTIONS) & (pl.col("subject") != ""))
        .select(cols)
    )


def _robust_scale(median: pl.Expr, mad: pl.Expr) -> pl.Expr:
    # A floor keeps a perfectly regular operator (MAD 0) from alerting on one
    # extra lookup: at least the Poisson spread of the median, and at least 1.
    return pl.max_horizontal(MAD_SCALE * mad, median.sqrt(), pl.lit(1.0))


def rule_volume_spike(ev: pl.DataFrame, context: GovernanceContext) -> list[Alert]:
    """A day with far more lookups than the operator's own and the peers' baseline.

    Baselines are robust (median and MAD of lookups per active day): the operator's
    own days, and every operator-day of the same department. A day alerts when its
    robust z-score exceeds ``volume_z`` against both, it is at least ``volume_ratio``
    times the operator's median, and it holds at least ``volume_min_lookups``
    lookups. Operators with fewer than ``volume_min_history`` days are judged
    against their peers only.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> from kumin.oplog.context import GovernanceContext
    >>> from kumin.oplog.rules import prepare_events
    >>> rows = [(dt.datetime(2021, 4, d, 10, m), "U1") for d in range(5, 25)
    ...         for m in range(10)] + [(dt.datetime(2021, 4, 26, 9, 0, s), "U1")
    ...         for s in range(60)] * 3
    >>> ev = pl.DataFrame({"ts": [r[0] for r in rows], "terminal_id": "T1",
    ...     "operator_id": [r[1] for r in rows], "action": "view", "subject": "R",
    ...     "function": "", "file": "a.csv", "line": list(range(2, len(rows) + 2))})
    >>> [a.evidence["day"] for a in rule_volume_spike(prepare_events(ev, GovernanceContext()),
    ...                                                 GovernanceContext())]
    ['2021-04-26']
    """
    th = context.thresholds
    lk = _lookups(ev)
    daily = (
        lk.group_by("operator_id", "day")
        .agg(pl.len().alias("k"), pl.col("home").first().alias("dept"))
        .collect()
    )
    if daily.is_empty():
        return []
    own = daily.group_by("operator_id").agg(
        pl.col("k").median().alias("own_med"),
        (pl.col("k") - pl.col("k").median()).abs().median().alias("own_mad"),
        pl.len().alias("history"),
    )
    # Peers on the same day share its rhythm (month end, elections); with fewer
    # than three of them active the department's whole period stands in.
    peers_day = daily.group_by("dept", "day").agg(
        pl.col("k").median().alias("pd_med"),
        (pl.col("k") - pl.col("k").median()).abs().median().alias("pd_mad"),
        pl.len().alias("peers"),
    )
    peers_all = daily.group_by("dept").agg(
        pl.col("k").median().alias("pa_med"),
        (pl.col("k") - pl.col("k").median()).abs().median().alias("pa_mad"),
    )
    d = (
        daily.join(own, on="operator_id")
        .join(peers_day, on=["dept", "day"], how="left", nulls_equal=True)
        .join(peers_all, on="dept", how="left", nulls_equal=True)
        .with_columns(
            pl.when(pl.col("peers") >= 3).then("pd_med").otherwise("pa_med").alias("peer_med"),
            pl.when(pl.col("peers") >= 3).then("pd_mad").otherwise("pa_mad").alias("peer_mad"),
        )
    )
    d = d.with_columns(
        (
            (pl.col("k") - pl.col("own_med")) / _robust_scale(pl.col("own_med"), pl.col("own_mad"))
        ).alias("z_own"),
        (
            (pl.col("k") - pl.col("peer_med"))
            / _robust_scale(pl.col("peer_med"), pl.col("peer_mad"))
        ).alias("z_peer"),
    )
    enough = pl.col("history") >= th.volume_min_history
    hits = d.filter(
        (pl.col("k") >= th.volume_min_lookups)
        & (pl.col("z_peer") >= th.volume_z)
        & (
            ~enough
            | (
                (pl.col("z_own") >= th.volume_z)
                & (pl.col("k") >= th.volume_ratio * pl.col("own_med"))
            )
        )
    )
    if hits.is_empty():
        return []
    x = lk.join(
        hits.lazy().select("operator_id", "day", "own_med", "peer_med", "z_own", "z_peer"),
        on=["operator_id", "day"],
    ).collect()
    groups = _group(
        x,
        ["operator_id", "day"],
        pl.col("own_med").first(),
        pl.col("peer_med").first(),
        pl.col("z_own").first(),
        pl.col("z_peer").first(),
        pl.col("home").drop_nulls().first(),
        pl.col("subject").n_unique().alias("subjects"),
    )
    alerts = []
    for g in groups.iter_rows(named=True):
        z = min(g["z_own"], g["z_peer"])
        score = min(1.0, 0.4 + z / 40)
        alerts.append(
            Alert(
                "volume_spike",
                "spike",
                severity_of(score),
                score,
                g["operator_id"],
                g["terminals"][0],
                None,
                g["home"],
                g["first_seen"],
                g["last_seen"],
                {
                    "day": g["day"].isoformat(),
                    "lookups": g["n"],
                    "subjects": g["subjects"],
                    "own_median": g["own_med"],
                    "peer_median": g["peer_med"],
                    "z_own": round(g["z_own"], 1),
                    "z_peer": round(g["z_peer"], 1),
                },
                _events_list(g["file"], g["line"]),
            )
        )
    return alerts


def unexplained_lookups(ev: pl.DataFrame, context: GovernanceContext) -> pl.DataFrame:
    """Lookups with no business record of the operator's department about the
    subject within ``record_window_days`` of the lookup."""
    lk = _lookups(ev)
    rec = context.business_records
    if rec.is_empty():
        return lk.collect()
    window = context.thresholds.record_window_days
    rec = (
        rec.select(
            pl.col("department").cast(pl.Categorical()).alias("home"),
            "subject",
            pl.col("date").alias("rec_day"),
        )
        .unique()
        .sort("rec_day")
    )
    # Only the keys travel through the as-of join; lookups are in time order.
    near = (
        lk.select("home", "subject", "day")
        .with_row_index("row")
        .collect()
        .join_asof(
            rec,
            left_on="day",
            right_on="rec_day",
            by=["home", "subject"],
            strategy="nearest",
            tolerance=dt.timedelta(days=window),
            check_sortedness=False,
        )
    )
    rows = near.filter(pl.col("rec_day").is_null())["row"]
    return (
        lk.with_row_index("row").filter(pl.col("row").is_in(rows.implode())).drop("row").collect()
    )


def _window_start(times: list[dt.datetime], need: int, days: int) -> int | None:
    """Index of the first of ``need`` sorted times that fit in ``days`` days."""
    span = dt.timedelta(days=days)
    for i in range(len(times) - need + 1):
        if times[i + need - 1] - times[i] <= span:
            return i
    return None


def rule_no_business_record(ev: pl.DataFrame, context: GovernanceContext) -> list[Alert]:
    """A resident looked up without business records by several unrelated
    departments, or repeatedly by one operator."""
    th = context.thresholds
    un = unexplained_lookups(ev, context)
    if un.is_empty():
        return []
    alerts: list[Alert] = []
    # several departments: first unexplained lookup per department, then a window
    per_dept = un.group_by("subject", "home").agg(pl.col("ts").min().alias("t0")).sort("t0")
    multi = (
        per_dept.group_by("subject")
        .agg(pl.col("home"), pl.col("t0"))
        .filter(pl.col("home").list.len() >= th.subject_min_departments)
    )
    for m in multi.iter_rows(named=True):
        i = _window_start(m["t0"], th.subject_min_departments, th.subject_window_days)
        if i is None:
            continue
        depts = m["home"][i:]
        t_end = m["t0"][i] + dt.timedelta(days=th.subject_window_days)
        x = un.filter(
            (pl.col("subject") == m["subject"])
            & pl.col("home").is_in(depts)
            & (pl.col("ts") <= t_end)
        )
        g = _group(x, ["subject"], pl.col("operator_id").unique().alias("ops")).row(0, named=True)
        n_dept = x["home"].n_unique()
        score = min(1.0, 0.5 + 0.15 * n_dept)
        alerts.append(
            Alert(
                "no_business_record",
                "departments",
                severity_of(score),
                score,
                g["ops"][0] if len(g["ops"]) == 1 else None,
                g["terminals"][0],
                m["subject"],
                None,
                g["first_seen"],
                g["last_seen"],
                {
                    "departments": ", ".join(sorted(x["home"].unique().to_list())),
                    "department_count": n_dept,
                    "operators": len(g["ops"]),
                    "lines": g["n"],
                    "window_days": th.subject_window_days,
                },
                _events_list(g["file"], g["line"]),
            )
        )
    # repeatedly by one operator: occasions are lookups more than a session gap apart
    gap = dt.timedelta(minutes=th.session_gap_minutes)
    occ = un.sort("operator_id", "subject", "ts").with_columns(
        ((pl.col("ts") - pl.col("ts").shift(1)) > gap)
        .fill_null(True)
        .over("operator_id", "subject")
        .alias("new_occasion")
    )
    per_op = (
        occ.group_by("operator_id", "subject")
        .agg(pl.col("new_occasion").sum().alias("k"))
        .filter(pl.col("k") >= th.repeat_min_occasions)
    )
    if per_op.height:
        x = occ.join(per_op.select("operator_id", "subject"), on=["operator_id", "subject"])
        groups = _group(
            x,
            ["operator_id", "subject"],
            pl.col("ts").filter(pl.col("new_occasion")).alias("times"),
            pl.col("home").drop_nulls().first(),
            pl.col("day").n_unique().alias("days"),
        )
        for g in groups.iter_rows(named=True):
            times = sorted(g["times"])
            if _window_start(times, th.repeat_min_occasions, th.repeat_window_days) is None:
                continue
            score = min(1.0, 0.3 + 0.15 * len(times))
            evidence: dict[str, Any] = {
                "lookups": g["n"],
                "occasions": len(times),
                "days": g["days"],
                "window_days": th.repeat_window_days,
            }
            alerts.append(
                Alert(
                    "no_business_record",
                    "repeated",
                    severity_of(score),
                    score,
                    g["operator_id"],
                    g["terminals"][0],
                    g["subject"],
                    g["home"],
                    g["first_seen"],
                    g["last_seen"],
                    evidence,
                    _events_list(g["file"], g["line"]),
                )
            )
    return alerts


def rule_watch_list(ev: pl.DataFrame, context: GovernanceContext) -> list[Alert]:
    """Any lookup of a resident on the watch list."""
    wl = context.watchlist_frame
    if wl.is_empty():
        return []
    x = _lookups(ev).join(wl.lazy(), on="subject", how="inner").collect()
    if x.is_empty():
        return []
    alerts = []
    groups = _group(
        x,
        ["operator_id", "subject", "day"],
        pl.col("reason").first(),
        pl.col("home").drop_nulls().first(),
    )
    for g in groups.iter_rows(named=True):
        alerts.append(
            Alert(
                "watch_list",
                "looked_up",
                "high",
                0.8,
                g["operator_id"],
                g["terminals"][0],
                g["subject"],
                g["home"],
                g["first_seen"],
                g["last_seen"],
                {"reason": g["reason"], "day": g["day"].isoformat(), "lookups": g["n"]},
                _events_list(g["file"], g["line"]),
            )
        )
    return alerts
