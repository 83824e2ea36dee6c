"""Set-up of an installation: key file, schema, first audit entry."""

from __future__ import annotations

from dataclasses import dataclass

from kumin.core import audit, crypto
from kumin.core.config import Settings
from kumin.core.db import session_scope, upgrade


@dataclass(frozen=True)
class InitResult:
    key_created: bool
    heads: list[str]


def initialise(settings: Settings) -> InitResult:
    """Create or upgrade everything ``kumin`` needs; safe to run any number of times."""
    key_created = crypto.ensure_key_file(settings.key_file)
    heads = upgrade(settings)
    with session_scope(settings) as session:
        crypto.recover_interrupted_rotation(session, settings.key_file)
        audit.record(
            session,
            "system",
            "system.init",
            "database",
            details={"heads": heads, "key_created": key_created},
        )
    return InitResult(key_created, heads)
