"""Who may do what: the one table of permissions, and the one check that uses it.

Every CLI command, web route and API endpoint names an action from
:data:`PERMISSIONS`; :func:`authorize` is the only place that decides. Actions
marked personal read or release personal data: holding any of them makes a role
require two-factor sign-in where the installation requires it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kumin.errors import PermissionDenied

ROLES = (
    "admin",
    "epidemiologist",
    "researcher",
    "records_officer",
    "terminal_manager",
    "auditor",
)

A, E, R, O, T, U = ROLES  # noqa: E741 - short names keep the table below readable

ALL = frozenset(ROLES)


@dataclass(frozen=True)
class Permission:
    roles: frozenset[str]
    personal: bool = False  # reads or releases personal data
    scoped: bool = False  # terminal managers only for their own department


def _p(*roles: str, personal: bool = False, scoped: bool = False) -> Permission:
    return Permission(frozenset(roles), personal, scoped)


PERMISSIONS: dict[str, Permission] = {
    # secure core
    "dashboard.view": _p(*ROLES),
    "account.self": _p(*ROLES),
    # a table already on the user's screen, downloaded as CSV or .xlsx (audited)
    "tables.export": _p(*ROLES),
    "users.manage": _p(A),
    "keys.manage": _p(A),
    "audit.read": _p(U, A),
    "audit.verify": _p(U, A),
    "audit.checkpoint": _p(U, A),
    # notification records, contracts, releases
    "cases.import": _p(E, personal=True),
    "cases.summary": _p(E, U),
    "cases.read": _p(E, personal=True),
    "contracts.manage": _p(E),
    "contracts.read": _p(E, U),
    "release.create": _p(E, personal=True),
    "release.list": _p(E, R, U),
    "release.download": _p(R, personal=True),
    "release.dispose": _p(E, A),
    "housekeeping.run": _p(A, E),
    "synth.run": _p(A, E),
    # infectious-disease models
    "epi.run": _p(E),
    "epi.report": _p(E, U),
    # resource allocation
    "calls.manage": _p(E),
    "calls.read": _p(E, U),
    "continuity.manage": _p(E),
    "continuity.read": _p(E, U),
    "evaluation.report": _p(E, U),
    # My Number cards and Juki-net business records
    "cards.manage": _p(O, personal=True),
    "cards.read": _p(O, U, personal=True),
    "cards.national": _p(O, A),
    "security.report": _p(O, U),
    # publishing a year's report closes the year; re-opening it needs a reason.
    # The auditor attests the figures the records officer keeps: not the author.
    "security.publish": _p(U),
    "security.reopen": _p(U),
    # Juki-net terminals, ledger, approvals, reservations
    "juki.manage": _p(O),
    "juki.read": _p(O, T, U, scoped=True),
    "juki.department": _p(O, T, scoped=True),
    # operation logs
    # residents named in the logs: stored encrypted (import), decrypted to judge
    # business records and the watch list (scan) or on request (triage)
    "oplog.import": _p(U, O, personal=True),
    "oplog.scan": _p(U, personal=True),
    "oplog.triage": _p(U, personal=True),
    "oplog.report": _p(U, O),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or ``system`` for set-up and housekeeping."""

    name: str
    role: str
    user_id: int | None = None
    department: str | None = None
    lang: str = "ja"

    @property
    def is_system(self) -> bool:
        return self.user_id is None and self.role == "admin" and self.name == "system"


SYSTEM = Actor("system", "admin")


def allowed(role: str, action: str) -> bool:
    return role in PERMISSIONS[action].roles


def requires_2fa(role: str) -> bool:
    """True for roles holding any permission that reads personal data, and for
    administrators, who hold the keys to all of it."""
    return role == "admin" or any(p.personal and role in p.roles for p in PERMISSIONS.values())


def authorize(
    actor: Actor,
    action: str,
    *,
    department: str | None = None,
    session: Session | None = None,
    object: str = "",
) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` may do ``action``.

    Call it before doing any work: when a session is given, a refusal rolls that
    session back and commits an audit entry recording the refusal.
    """
    perm = PERMISSIONS.get(action)
    if perm is None:
        raise KeyError(f"unknown action {action!r}: declare it in PERMISSIONS")
    ok = actor.role in perm.roles
    if ok and perm.scoped and actor.role == "terminal_manager" and department is not None:
        ok = department == actor.department
    if not ok:
        if session is not None:
            _record_denial(session, actor, action, object)
        raise PermissionDenied("core.auth.forbidden", action=action)


def _record_denial(session: Session, actor: Actor, action: str, object: str) -> None:
    # Authorisation comes before any work, so nothing of the caller's is lost here.
    from kumin.core import audit

    session.rollback()
    audit.record(session, actor.name, action, object=object, outcome="denied")
    session.commit()
