"""Run every detection rule over operation-log events and collect the alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from kumin.errors import ParameterError
from kumin.oplog.context import GovernanceContext
from kumin.oplog.rules import (
    Alert,
    prepare_events,
    rule_failed_access,
    rule_off_hours,
    rule_outside_reservation,
    rule_shared_credentials,
    rule_unapproved_function,
    rule_unlisted_operator,
    rule_unsecured_terminal,
)
from kumin.oplog.rules_subject import rule_no_business_record, rule_volume_spike, rule_watch_list

Rule = Callable[[pl.DataFrame, GovernanceContext], list[Alert]]

#: every rule, by the name alerts carry in ``Alert.rule``
RULES: dict[str, Rule] = {
    "unlisted_operator": rule_unlisted_operator,
    "outside_reservation": rule_outside_reservation,
    "off_hours": rule_off_hours,
    "unapproved_function": rule_unapproved_function,
    "shared_credentials": rule_shared_credentials,
    "volume_spike": rule_volume_spike,
    "no_business_record": rule_no_business_record,
    "watch_list": rule_watch_list,
    "unsecured_terminal": rule_unsecured_terminal,
    "failed_access": rule_failed_access,
}
_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


def scan(
    events: pl.DataFrame,
    context: GovernanceContext,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    rules: Iterable[str] | None = None,
    on_rule: Callable[[str, int], None] | None = None,
    workers: int = 1,
) -> list[Alert]:
    """Run the rules over ``events`` (the frame of :func:`kumin.oplog.logs.read_log`).

    Parameters
    ----------
    events : event frame (``ts, terminal_id, operator_id, action, subject, function,
        file, line``).
    context : the governance context, thresholds included.
    start, end : keep events with ``start <= ts < end`` (either may be None).
        Baselines (volume) are computed over the kept events only.
    rules : names from :data:`RULES` (default: all of them).
    on_rule : called after each rule with its name and alert count (progress bars).
    workers : rules run in this many threads at once. polars releases the GIL, so
        2 uses two cores where a rule's own work is single-threaded; memory grows
        by the working set of the rules running together.

    Returns
    -------
    list of :class:`~kumin.oplog.rules.Alert`, most severe and highest score first.

    Examples
    --------
    >>> from kumin.synth.oplog import synth_oplog
    >>> s = synth_oplog(seed=1, days=30, inject=False)
    >>> scan(s.events, s.context, rules=["watch_list"])
    []
    """
    names = list(RULES) if rules is None else list(rules)
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise ParameterError(
            "oplog.parameter",
            name="rules",
            owner="scan",
            constraint="a list of " + ", ".join(RULES),
            value=repr(unknown),
        )
    if start is not None:
        events = events.filter(pl.col("ts") >= start)
    if end is not None:
        events = events.filter(pl.col("ts") < end)
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= 16:
        raise ParameterError(
            "oplog.parameter",
            name="workers",
            owner="scan",
            constraint="an int in [1, 16]",
            value=repr(workers),
        )
    prepared = prepare_events(events, context)
    alerts: list[Alert] = []

    def run(name: str) -> list[Alert]:
        found = RULES[name](prepared, context)
        if on_rule:
            on_rule(name, len(found))
        return found

    if workers == 1:
        for name in names:
            alerts.extend(run(name))
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for found in pool.map(run, names):
                alerts.extend(found)
    # rule and fingerprint break ties, so the order never depends on the threads
    alerts.sort(
        key=lambda a: (
            _SEVERITY_RANK[a.severity],
            -a.score,
            a.first_seen or dt.datetime.min,
            a.rule,
            a.fingerprint,
        )
    )
    return alerts
