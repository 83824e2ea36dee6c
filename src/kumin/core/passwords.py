"""Password policy: long enough, not among the commonest, not the user's own name.

Following NIST SP 800-63B and OWASP ASVS 2.1: a minimum length, no composition
rules, and a check against a list of passwords known from breaches (the 20,000
commonest, bundled in ``core/data``; see its README for the source).
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

from kumin.errors import UserError

MIN_PASSWORD = 10
MAX_PASSWORD = 256  # Argon2 copes with more, but nobody types more; keeps hashing bounded


@cache
def common_passwords() -> frozenset[str]:
    data = (resources.files("kumin") / "core" / "data" / "common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def check_password(password: str, user_name: str) -> None:
    """Raise :class:`UserError` naming what is wrong with a new password."""
    if len(password) < MIN_PASSWORD:
        raise UserError("core.users.weak_password", min=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise UserError("core.signin.password_too_long", max=MAX_PASSWORD)
    folded = password.strip().lower()
    if folded in common_passwords():
        raise UserError("core.signin.common_password")
    name = user_name.strip().lower()
    if len(name) >= 3 and name in folded:
        raise UserError("core.signin.password_has_name")
