"""Column profiles of notification files: the line-list kind of the one profile
schema (:mod:`kumin.core.imports`).

kumin ships ``hersys`` (the item names of report No. 350), ``kumin`` (English
snake_case) and ``nishiura`` (the national line list of 2020-05-10) in
``kumin/cases/profiles/``. An office adds its own by dropping ``NAME.toml``
(``domain = "cases"``) into the settings' profile directory or a folder named in
``KUMIN_PROFILE_DIR``; those are searched first, so a local file may also
replace a built-in one. Besides the common keys a line-list profile may give
``id_template`` (``"X-{line:06d}"``, for files without an ID column) and
``[values.<field>]`` forms that add to the built-in code lists of
:mod:`kumin.cases.codes`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from kumin.core.imports import Profile, header_key
from kumin.core.imports import list_profiles as _list
from kumin.core.imports import load_profile as _load
from kumin.core.imports import profile_dirs as _dirs
from kumin.errors import DataError, Problem

__all__ = [
    "FIELDS",
    "Profile",
    "header_key",
    "id_template",
    "list_profiles",
    "load_profile",
    "profile_dirs",
]

DOMAIN = "cases"
#: Fields a profile may map, in record order. Types are defined in ``parse``.
FIELDS: tuple[str, ...] = (
    "hersys_id",
    "birth_date",
    "age_band",
    "sex",
    "nationality",
    "residence",
    "address",
    "onset_date",
    "first_visit_date",
    "specimen_date",
    "result_date",
    "report_date",
    "symptoms",
    "asymptomatic",
    "vaccine_doses",
    "care_setting",
    "imported",
)
#: Coded fields whose written forms a profile may extend under ``[values.<field>]``.
CODED = ("age_band", "sex", "vaccine_doses", "care_setting", "asymptomatic", "imported")


def id_template(profile: Profile) -> str | None:
    template = profile.options.get("id_template")
    return str(template) if template else None


def profile_dirs(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Folders searched for line-list profiles (and their ``hierarchies/``), first match wins."""
    return [folder for folder, _ in _dirs(DOMAIN, extra_dirs)]


def list_profiles(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[str]:
    """Names of every line-list profile that :func:`load_profile` can find, sorted."""
    return [p.name for p in _list(DOMAIN, extra_dirs)]


def load_profile(
    name: str | os.PathLike[str], extra_dirs: Iterable[str | os.PathLike[str]] = ()
) -> Profile:
    """Find, read and check a line-list profile by name (never a path).

    Raises :class:`~kumin.errors.NotFound` (``core.profile.not_found``) and
    :class:`~kumin.errors.DataError` (``core.profile.invalid``) listing every
    mistake, including those particular to line lists (no ID column and no
    ``id_template``, a template that does not format).
    """
    profile = _load(DOMAIN, str(name), extra_dirs, fields=FIELDS)
    problems: list[Problem] = []
    if not profile.columns:
        problems.append(Problem(None, "columns", "core.profile.no_columns"))
    template = id_template(profile)
    if "hersys_id" not in profile.columns and not template:
        problems.append(Problem(None, "hersys_id", "cases.profile.no_id"))
    if template is not None:
        try:
            template.format(line=2)
        except (KeyError, IndexError, ValueError):
            problems.append(Problem(None, "id_template", "cases.profile.bad_id_template"))
    for column in profile.values:
        if column not in CODED:
            problems.append(
                Problem(
                    None,
                    f"values.{column}",
                    "core.profile.unknown_field",
                    {"allowed": ", ".join(CODED)},
                )  # fmt: skip
            )
    if problems:
        raise DataError("core.profile.invalid", problems=problems, path=f"{profile.name}.toml")
    return profile
