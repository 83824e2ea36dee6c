"""Installation policy kept in the database: whether 2FA is required, whether a demo.

The policy belongs to the installation, not to whoever runs a command: every shell,
web worker and machine sharing the database reads the same answer. ``kumin init``
leaves the safe defaults (2FA required, not a demo); ``kumin demo`` marks its
installation as a demo without 2FA; an administrator changes it with
``kumin policy set``, which is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from kumin.core.context import Ctx
from kumin.core.db import utcnow
from kumin.core.models import InstallationSetting
from kumin.errors import UserError


@dataclass(frozen=True)
class Policy:
    require_2fa: bool = True  # for roles that read personal data, and administrators
    demo: bool = False  # a synthetic demo ward: its accounts' passwords were printed


POLICY_NAMES = tuple(f.name for f in fields(Policy))


def load_policy(session: Session) -> Policy:
    stored = {
        row.name: row.value
        for row in session.scalars(
            select(InstallationSetting).where(InstallationSetting.name.in_(POLICY_NAMES))
        )
    }
    return Policy(**{name: stored[name] == "1" for name in POLICY_NAMES if name in stored})


def store_policy(session: Session, **changes: bool) -> Policy:
    """Write policy values (set-up and demo; users go through :func:`set_policy`)."""
    for name, value in changes.items():
        if name not in POLICY_NAMES:
            raise UserError("core.signin.bad_policy", name=name, names=", ".join(POLICY_NAMES))
        row = session.get(InstallationSetting, name)
        text = "1" if value else "0"
        if row is None:
            session.add(InstallationSetting(name=name, value=text))
        else:
            row.value = text
            row.changed_at = utcnow()
    session.flush()
    return load_policy(session)


def show_policy(ctx: Ctx) -> Policy:
    ctx.authorize("users.manage")
    return load_policy(ctx.session)


def set_policy(ctx: Ctx, name: str, value: bool) -> Policy:
    """An administrator changes the installation's policy; audited with old and new."""
    ctx.authorize("users.manage", object=f"policy:{name}")
    old = load_policy(ctx.session)
    policy = store_policy(ctx.session, **{name: value})
    ctx.audit("system.policy", f"policy:{name}", old=getattr(old, name, None), new=value)
    return policy
