"""Operation-log profiles: which headers name which column, and which written
operation names mean which action of the rules' vocabulary.

Terminal logs are written by vendors and ward staff, not by kumin: the same
lookup is ``照会``, ``閲覧`` or ``11``. A profile (TOML, ``domain = "oplog"``)
maps them onto :data:`kumin.oplog.logs.ACTIONS`. The built-in profiles live
beside this module; a ward adds its own in a folder named in
``KUMIN_PROFILE_DIR``. Profiles are chosen by name only, never by path, so a
web form cannot make the server read a file of its choosing.
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from kumin.errors import DataError, NotFound

DEFAULT = "kumin"
PROFILE_DIR_ENV = "KUMIN_PROFILE_DIR"
_NAME = re.compile(r"[A-Za-z0-9_\-]{1,64}")
COLUMNS = ("timestamp", "terminal_id", "operator_id", "action", "subject", "function")
#: the rules' vocabulary; search, view and print read a resident's data
ACTIONS = ("search", "view", "print", "update", "login", "logout", "login_failed", "denied")


def fold(text: Any) -> str:
    """How written names are compared: NFKC (full-width → half-width), no
    surrounding blanks, case-folded."""
    return unicodedata.normalize("NFKC", str(text)).strip().casefold()


@dataclass(frozen=True)
class LogProfile:
    name: str
    description: str
    #: folded header → canonical column
    headers: dict[str, str]
    #: folded written action → canonical action
    actions: dict[str, str]

    def column_for(self, header: str) -> str:
        """The canonical column a header names (the header itself when unknown)."""
        return self.headers.get(fold(header), header)

    def action_for(self, written: str) -> str | None:
        return self.actions.get(fold(written))

    def as_dict(self) -> dict[str, Any]:
        by_col: dict[str, list[str]] = {c: [] for c in COLUMNS}
        for h, c in self.headers.items():
            by_col[c].append(h)
        by_action: dict[str, list[str]] = {a: [] for a in ACTIONS}
        for w, a in self.actions.items():
            by_action[a].append(w)
        return {
            "name": self.name,
            "description": self.description,
            "columns": {c: sorted(v) for c, v in by_col.items()},
            "actions": {a: sorted(v) for a, v in by_action.items()},
        }


def _builtin_dir() -> Path:
    return Path(str(resources.files(__name__)))


def profile_dirs() -> list[Path]:
    """Folders searched, first match wins: ``KUMIN_PROFILE_DIR``, then built-in."""
    env = os.environ.get(PROFILE_DIR_ENV, "")
    return [*(Path(p) for p in env.split(os.pathsep) if p), _builtin_dir()]


def _is_oplog(path: Path) -> bool:
    try:
        return tomllib.loads(path.read_text("utf-8")).get("domain") == "oplog"
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def list_profiles() -> list[str]:
    """Names of every operation-log profile that :func:`load_profile` can find."""
    names: set[str] = set()
    for folder in profile_dirs():
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.toml") if _is_oplog(p))
    return sorted(names)


def load_profile(name: str = DEFAULT) -> LogProfile:
    """The profile called ``name``.

    Raises :class:`~kumin.errors.NotFound` when no folder holds it (or ``name``
    is not a plain name) and :class:`~kumin.errors.DataError` naming what is
    wrong in a malformed profile.
    """
    if _NAME.fullmatch(name or ""):
        for folder in profile_dirs():
            path = folder / f"{name}.toml"
            if path.is_file() and _is_oplog(path):
                return read_profile(path)
    raise NotFound("oplog.profile.not_found", name=name, available=", ".join(list_profiles()))


def read_profile(path: Path) -> LogProfile:
    raw = tomllib.loads(path.read_text("utf-8"))
    problems: list[str] = []
    headers = {fold(c): c for c in COLUMNS}
    for column, forms in dict(raw.get("columns", {})).items():
        if column not in COLUMNS:
            problems.append(f"columns.{column}")
            continue
        for form in forms:
            headers[fold(form)] = column
    actions = {fold(a): a for a in ACTIONS}
    for action, forms in dict(raw.get("actions", {})).items():
        if action not in ACTIONS:
            problems.append(f"actions.{action}")
            continue
        for form in forms:
            key = fold(form)
            if actions.get(key, action) != action:  # one written name, two meanings
                problems.append(f"actions.{action}: {form}")
            actions[key] = action
    if problems:
        raise DataError(
            "oplog.profile.invalid",
            name=path.stem,
            where="; ".join(problems),
            allowed=", ".join(ACTIONS),
        )
    return LogProfile(
        name=str(raw.get("name", path.stem)),
        description=str(raw.get("description", "")),
        headers=headers,
        actions=actions,
    )
