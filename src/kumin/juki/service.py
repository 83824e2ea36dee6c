"""Juki-net terminal governance: one function per user action.

The functions live in topic modules and are re-exported here, so that callers
write ``kumin.juki.service.import_ledger``:

- :mod:`kumin.juki.service_units`: departments and terminals;
- :mod:`kumin.juki.service_ledger`: the versioned operator ledger and rights;
- :mod:`kumin.juki.service_usage`: usage applications, reservations, usage records;
- :mod:`kumin.juki.service_inspections`: daily checklists, audits, meetings, training;
- :mod:`kumin.juki.service_records`: business records and the watch list.

:func:`kumin.oplog.governance.governance_context` reads these records for the
operation-log rules (oplog reads juki; juki never imports oplog).
"""

from __future__ import annotations

from kumin.juki._common import own_department
from kumin.juki.service_inspections import (
    add_audit,
    add_finding,
    add_meeting,
    add_training,
    checklist_items,
    get_audit,
    get_meeting,
    import_checklists,
    latest_governance_year,
    list_audits,
    list_checklists,
    list_meetings,
    list_trainings,
    record_checklist,
    set_checklist_item,
    update_finding,
)
from kumin.juki.service_ledger import (
    import_ledger,
    ledger_in_force,
    ledger_versions,
    operator_department,
    operator_rights,
)
from kumin.juki.service_records import (
    count_business_records,
    import_business_records,
    import_watchlist,
    list_watchlist,
    remove_watch,
)
from kumin.juki.service_units import (
    ImportResult,
    get_department,
    get_terminal,
    import_departments,
    import_terminals,
    list_departments,
    list_terminals,
    set_terminal,
)
from kumin.juki.service_usage import (
    cancel_reservation,
    create_reservation,
    end_application,
    import_applications,
    import_reservations,
    import_usage,
    list_applications,
    list_reservations,
    list_usage,
    record_usage,
    review_application,
    submit_application,
)

__all__ = [
    "ImportResult",
    "add_audit",
    "add_finding",
    "add_meeting",
    "add_training",
    "cancel_reservation",
    "checklist_items",
    "count_business_records",
    "create_reservation",
    "end_application",
    "get_audit",
    "get_department",
    "get_meeting",
    "get_terminal",
    "import_applications",
    "import_business_records",
    "import_checklists",
    "import_departments",
    "import_ledger",
    "import_reservations",
    "import_terminals",
    "import_usage",
    "import_watchlist",
    "ledger_in_force",
    "latest_governance_year",
    "ledger_versions",
    "list_applications",
    "list_audits",
    "list_checklists",
    "list_departments",
    "list_meetings",
    "list_reservations",
    "list_terminals",
    "list_trainings",
    "list_usage",
    "list_watchlist",
    "operator_department",
    "operator_rights",
    "own_department",
    "record_checklist",
    "record_usage",
    "remove_watch",
    "review_application",
    "set_checklist_item",
    "set_terminal",
    "submit_application",
    "update_finding",
]
