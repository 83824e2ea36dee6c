"""Operation-log profiles: the ``log`` kind of the one profile schema
(:mod:`kumin.core.imports`).

Terminal logs are written by vendors and ward staff, not by kumin: the same
lookup is ``照会``, ``閲覧`` or ``11``. A profile (``domain = "oplog"``) names
the headers of each column and, under ``[values.action]``, the written forms of
each action of the rules' vocabulary (:data:`ACTIONS`). The built-in profiles
live beside this module; a ward adds its own in a folder named in
``KUMIN_PROFILE_DIR``.
"""

from __future__ import annotations

from kumin.core.imports import Profile
from kumin.core.imports import list_profiles as _list
from kumin.core.imports import load_profile as _load
from kumin.errors import DataError, Problem

DEFAULT = "kumin"
DOMAIN = "oplog"
COLUMNS = ("timestamp", "terminal_id", "operator_id", "action", "subject", "function")
#: the rules' vocabulary; search, view and print read a resident's data
ACTIONS = ("search", "view", "print", "update", "login", "logout", "login_failed", "denied")


def list_profiles() -> list[str]:
    """Names of every operation-log profile that :func:`load_profile` can find."""
    return [p.name for p in _list(DOMAIN)]


def load_profile(name: str = DEFAULT) -> Profile:
    """The profile called ``name``; every action always means itself.

    Raises :class:`~kumin.errors.NotFound` when no folder holds it (or ``name``
    is not a plain name) and :class:`~kumin.errors.DataError` naming what is
    wrong in a malformed profile.
    """
    profile = _load(DOMAIN, name or "", fields=COLUMNS, codes={"action": ACTIONS})
    if "actions" in profile.options:  # the layout before the one schema
        problem = Problem(None, "actions", "oplog.profile.renamed")
        raise DataError("core.profile.invalid", problems=[problem], path=f"{name}.toml")
    return profile
