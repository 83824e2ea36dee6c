"""Operation-log analysis of the Juki-net integrated terminals.

The pure core (no database, no web) is re-exported here: :func:`read_log` reads a
log into the event frame, :class:`GovernanceContext` and :class:`Thresholds` say
what the events are judged against, :func:`scan` runs every rule and returns
:class:`Alert` objects. The database, CLI and web layers live in
:mod:`kumin.oplog.service`, :mod:`kumin.oplog.cli` and :mod:`kumin.oplog.web`.
"""

from kumin.oplog.context import GovernanceContext, Thresholds
from kumin.oplog.logs import read_log, read_logs, write_log_csv
from kumin.oplog.rules import Alert
from kumin.oplog.scan import RULES, scan

__all__ = [
    "RULES",
    "Alert",
    "GovernanceContext",
    "Thresholds",
    "read_log",
    "read_logs",
    "scan",
    "write_log_csv",
]
