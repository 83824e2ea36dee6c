"""Operation-log analysis: one function per user action.

The functions live in topic modules and are re-exported here, so that callers
write ``kumin.oplog.service.run_scan``:

- :mod:`kumin.oplog.service_imports`: log files into the database, the stored
  events (and kumin's own audit trail) back out as the rules' frame;
- :mod:`kumin.oplog.service_alerts`: thresholds, scans, alerts and their triage,
  suppressions;
- :mod:`kumin.oplog.service_reports`: the periodic report's figures and the
  deterrence notices to departments.
"""

from __future__ import annotations

from kumin.oplog.service_alerts import (
    ScanResult,
    add_note,
    alert_row,
    close,
    count_alerts,
    get_alert,
    governance,
    keyed_context,
    lift_suppression,
    list_alerts,
    list_scans,
    list_suppressions,
    list_thresholds,
    reopen,
    reveal_subject,
    review,
    run_scan,
    set_threshold,
    suppress,
    thresholds,
)
from kumin.oplog.service_imports import (
    AUDIT_RULES,
    ImportResult,
    audit_context,
    audit_events,
    import_log,
    list_files,
    load_audit_events,
    load_events,
)
from kumin.oplog.service_reports import (
    default_period,
    issue_notices,
    list_notices,
    notice_data,
    report_data,
)

__all__ = [
    "AUDIT_RULES",
    "ImportResult",
    "ScanResult",
    "add_note",
    "alert_row",
    "audit_context",
    "audit_events",
    "close",
    "count_alerts",
    "default_period",
    "get_alert",
    "governance",
    "import_log",
    "issue_notices",
    "keyed_context",
    "lift_suppression",
    "list_alerts",
    "list_files",
    "list_notices",
    "list_scans",
    "list_suppressions",
    "list_thresholds",
    "load_audit_events",
    "load_events",
    "notice_data",
    "reopen",
    "report_data",
    "reveal_subject",
    "review",
    "run_scan",
    "set_threshold",
    "suppress",
    "thresholds",
]
