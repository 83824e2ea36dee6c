"""Column profiles: which column of an export holds which record field.

Profiles are TOML data files, not code. kumin ships ``hersys`` (the item names
of report No. 350), ``kumin`` (English snake_case) and ``nishiura`` (the national
line list of 2020-05-10). An office adds its own by dropping ``NAME.toml`` into
a profile folder — the folders given by the caller (the settings' profile
directory) and those in ``KUMIN_PROFILE_DIR`` (``os.pathsep``-separated) are
searched before the built-in ones, so a local file may also replace a built-in
profile. A path to a ``.toml`` file works as a profile name too.

A profile file::

    name = "myward"
    title_ja = "…"              # optional
    title_en = "…"              # optional
    missing = ["NA", "#N/A"]    # extra texts meaning "no value"
    id_template = "X-{line:06d}"  # only for files without an ID column
    optional = ["symptoms"]     # fields whose column may be absent

    [columns]                   # record field = column header
    hersys_id = "HER-SYS ID"
    onset_date = "発病日"
"""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from kumin.errors import DataError, NotFound, Problem

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
PROFILE_DIR_ENV = "KUMIN_PROFILE_DIR"


@dataclass(frozen=True)
class Profile:
    """A column profile. ``columns`` maps record field → header, in file order."""

    name: str
    columns: dict[str, str]
    missing: frozenset[str] = frozenset()
    id_template: str | None = None
    optional: frozenset[str] = frozenset()
    title_ja: str = ""
    title_en: str = ""
    source: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def headers(self) -> list[str]:
        """The column headers in the order a writer puts them."""
        return list(self.columns.values())

    def required_headers(self) -> list[str]:
        return [h for f, h in self.columns.items() if f not in self.optional]


def header_key(header: str) -> str:
    """Headers match after NFKC, without spaces: ``住所(町名まで)`` = ``住所（町名まで）``."""
    return "".join(unicodedata.normalize("NFKC", header).split()).lower()


# A profile is named by its file's stem: letters, digits, "_" and "-", never a path.
_PROFILE_NAME = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def _builtin_dir() -> Path:
    return Path(str(resources.files("kumin.cases") / "profiles"))


def profile_dirs(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Folders searched for profiles, first match wins: ``extra_dirs``, then
    ``KUMIN_PROFILE_DIR``, then the built-in folder."""
    dirs = [Path(d) for d in extra_dirs]
    env = os.environ.get(PROFILE_DIR_ENV, "")
    dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs.append(_builtin_dir())
    return dirs


def list_profiles(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> list[str]:
    """Names of every profile that :func:`load_profile` can find, sorted."""
    names: set[str] = set()
    for folder in profile_dirs(extra_dirs):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.toml"))
    return sorted(names)


def load_profile(
    name: str | os.PathLike[str], extra_dirs: Iterable[str | os.PathLike[str]] = ()
) -> Profile:
    """Find and read a profile by its name in the profile folders.

    Only a bare name is accepted, never a path: the name comes from web forms and
    the API, and must not let a caller read files elsewhere on the server.

    Raises :class:`~kumin.errors.NotFound` (``cases.profile.not_found``) when no
    folder holds it and :class:`~kumin.errors.DataError` (``cases.profile.invalid``)
    listing every mistake when the file is malformed.
    """
    extra_dirs = list(extra_dirs)
    text = str(name)
    if _PROFILE_NAME.fullmatch(text):
        for folder in profile_dirs(extra_dirs):
            path = folder / f"{text}.toml"
            if path.is_file():
                return read_profile(path)
    raise NotFound(
        "cases.profile.not_found",
        name=text[:64],
        available=", ".join(list_profiles(extra_dirs)),
    )


def read_profile(path: Path) -> Profile:
    """Read and check one profile file."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(
            "cases.profile.invalid",
            problems=[Problem(None, None, "cases.profile.not_toml", {"reason": str(exc)})],
            path=path.name,
        ) from None
    problems: list[Problem] = []
    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns:
        problems.append(Problem(None, "columns", "cases.profile.no_columns"))
        columns = {}
    for fld, header in columns.items():
        if fld not in FIELDS:
            problems.append(
                Problem(None, fld, "cases.profile.unknown_field", {"allowed": ", ".join(FIELDS)})
            )
        elif not isinstance(header, str) or not header.strip():
            problems.append(Problem(None, fld, "cases.profile.bad_header"))
    keys = [header_key(h) for h in columns.values() if isinstance(h, str)]
    if len(set(keys)) != len(keys):
        problems.append(Problem(None, "columns", "cases.profile.duplicate_header"))
    id_template = data.get("id_template")
    if "hersys_id" not in columns and not id_template:
        problems.append(Problem(None, "hersys_id", "cases.profile.no_id"))
    if id_template is not None:
        try:
            str(id_template).format(line=2)
        except (KeyError, IndexError, ValueError):
            problems.append(Problem(None, "id_template", "cases.profile.bad_id_template"))
    optional = data.get("optional", [])
    missing = data.get("missing", [])
    if not isinstance(optional, list) or any(o not in columns for o in optional):
        problems.append(Problem(None, "optional", "cases.profile.bad_optional"))
        optional = []
    if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
        problems.append(Problem(None, "missing", "cases.profile.bad_missing"))
        missing = []
    if problems:
        raise DataError("cases.profile.invalid", problems=problems, path=path.name)
    known = {"name", "title_ja", "title_en", "missing", "id_template", "optional", "columns"}
    return Profile(
        name=str(data.get("name", path.stem)),
        columns={f: h.strip() for f, h in columns.items()},
        missing=frozenset(unicodedata.normalize("NFKC", m).strip() for m in missing),
        id_template=str(id_template) if id_template else None,
        optional=frozenset(optional),
        title_ja=str(data.get("title_ja", "")),
        title_en=str(data.get("title_en", "")),
        source=str(path),
        extra={k: v for k, v in data.items() if k not in known},
    )
