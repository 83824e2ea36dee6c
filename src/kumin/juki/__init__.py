"""Juki-net terminal governance: the records the ward keeps about its integrated
terminals (report sections 2, 4, 5 and 6).

Departments and their hours, terminals with their manager, assistant and state,
the versioned operator ledger, usage applications with review, reservations and
usage records of the shared terminals, business records, the daily inspection
checklist, audits with findings and corrective actions, security meetings,
training and drills, and the watch list. The operation-log rules (:mod:`kumin.oplog`)
read them through :func:`kumin.oplog.governance.governance_context`; juki never
imports oplog.
"""
