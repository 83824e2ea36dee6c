"""The one import pipeline: read → profile → validate → all-or-nothing → result.

Every import of kumin (HER-SYS line lists, call-centre records and service
counts, the card history and the Ministry's card tables, Juki-net units and
records, operation logs) reads its file with :func:`kumin.core.tabular.read_table`
(CSV UTF-8/BOM/CP932 detected, .xlsx, streamed), maps its headers and coded
values through a **profile**, parses cells with :mod:`kumin.core.cells`, reports
every problem by file, line and column in one :class:`~kumin.errors.DataError`
before anything is written, and returns one :class:`ImportResult`.

Profiles are TOML files with one schema for every domain::

    domain = "oplog"            # the domain that reads it (required)
    kind = "log"                # what it reads, within the domain
    name = "kumin"              # default: the file's stem (profiles are found by it)
    title_ja = "…"              # what `kumin profiles list` shows
    title_en = "…"
    encoding = "auto"           # auto, utf-8 or cp932
    missing = ["NA"]            # texts meaning "no value", besides the empty cell
    dates = ["gregorian", "era"]  # date forms accepted (default all; "serial": Excel numbers)
    key = ["date"]              # columns that identify a row
    optional = ["cost_yen"]     # columns that may be absent

    [columns]                   # field = header, [headers], or a table:
    timestamp = ["日時", "操作日時"]
    calls = { headers = ["受電件数"], type = "int", min = 0 }

    [files.cards]               # a folder of files: the same, per file stem

    [values.action]             # code = the written forms that mean it
    view = ["照会", "閲覧", "11"]

A field's own name always matches as a header and a code as its own written
form; headers and codes compare after :func:`kumin.core.cells.fold` (NFKC,
blanks, case) and headers also without inner spaces. Any other top-level key is
an option of the domain (``id_template`` of line lists).

Profiles ship in ``kumin/<domain>/profiles/``; an office adds its own (or
replaces a built-in one) in a folder named in ``KUMIN_PROFILE_DIR``. They are
chosen by name only, never by path, so a web form cannot make the server read a
file of its choosing. ``kumin profiles list|show`` shows what each expects.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from kumin.core.cells import (
    DATE_FORMS,
    CellError,
    cell_text,
    date_form,
    fold,
    normalise_text,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_month,
    parse_number,
    parse_time,
)
from kumin.core.tabular import Table, read_table, width_problem
from kumin.errors import DataError, NotFound, Problem

#: ``progress(done, total)``: every long import reports through one callable.
Progress = Callable[[int, int], None] | None

PROFILE_DIR_ENV = "KUMIN_PROFILE_DIR"
TYPES = ("text", "int", "float", "date", "month", "time", "datetime", "bool", "code")
ENCODINGS = ("auto", "utf-8", "cp932")
_NAME = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_KNOWN = {
    "domain", "kind", "name", "title_ja", "title_en", "description", "encoding",
    "missing", "key", "optional", "columns", "files", "values", "dates",
}  # fmt: skip
#: Profiles written before the one schema had no ``domain``: they were line lists.
LEGACY_DOMAIN = "cases"


def header_key(header: Any) -> str:
    """Headers match after NFKC, case-folded, without any blank:
    ``住所(町名まで)`` = ``住所（町名 まで）``."""
    return "".join(fold(header).split())


@dataclass(frozen=True)
class Column:
    """One column of a profile: the headers that name it and how its cells read."""

    field: str
    headers: tuple[str, ...]  # the first is the one writers use
    type: str = "text"
    required: bool = True
    low: float | None = None
    high: float | None = None

    @property
    def header(self) -> str:
        return self.headers[0] if self.headers else self.field


@dataclass(frozen=True)
class Profile:
    """A parsed profile (see the module docstring for its TOML form)."""

    name: str
    domain: str
    kind: str = ""
    title_ja: str = ""
    title_en: str = ""
    columns: dict[str, Column] = field(default_factory=dict)
    files: dict[str, dict[str, Column]] = field(default_factory=dict)
    #: field → folded written form → code
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    #: field → code → written forms as the file gives them (for writers and `show`)
    written: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()
    encoding: str = "auto"
    #: date forms accepted (:data:`kumin.core.cells.DATE_FORMS`)
    dates: tuple[str, ...] = DATE_FORMS
    key: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    builtin: bool = True

    @property
    def headers(self) -> list[str]:
        """The column headers in the order a writer puts them."""
        return [c.header for c in self.columns.values()]

    @property
    def optional(self) -> frozenset[str]:
        return frozenset(f for f, c in self.columns.items() if not c.required)

    def title(self, lang: str = "ja") -> str:
        return (self.title_en if lang == "en" else self.title_ja) or self.title_ja or self.name

    def columns_of(self, file: str | None = None) -> dict[str, Column]:
        return self.files.get(file, {}) if file is not None else self.columns

    def code(self, column: str, value: Any) -> str:
        """The code a written value means in ``column``; an unknown one raises
        :class:`CellError` (``core.cell.unknown_code``) saying where to map it."""
        vocabulary = self.values.get(column, {})
        got = vocabulary.get(fold(value))
        if got is None:
            raise CellError(
                "core.cell.unknown_code",
                value=str(value).strip(),
                column=column,
                profile=self.name,
                allowed=", ".join(sorted(set(vocabulary.values()))),
            )
        return got

    def field_for(self, header: str, file: str | None = None) -> str | None:
        """The field a header names (its own name, or one of its headers)."""
        key = header_key(header)
        for column in self.columns_of(file).values():
            if key in {header_key(h) for h in (column.field, *column.headers)}:
                return column.field
        return None

    def locate(
        self, header: Iterable[str], file: str | None = None
    ) -> tuple[dict[str, str], list[Problem]]:
        """Which header of a file feeds which field: ``{field: header as written}``,
        and the problems (a required column missing, a column named twice)."""
        by_key: dict[str, str] = {}
        for column in self.columns_of(file).values():
            for form in (column.field, *column.headers):
                by_key.setdefault(header_key(form), column.field)
        found: dict[str, str] = {}
        problems: list[Problem] = []
        params = {"file": file} if file else {}
        for written in header:
            fld = by_key.get(header_key(written)) if written else None
            if fld is None:
                continue
            if fld in found:
                problems.append(Problem(1, fld, "core.import.duplicate_column", dict(params)))
            found[fld] = written
        for column in self.columns_of(file).values():
            if column.required and column.field not in found:
                # the one header a profile expects, else the field (itself a header)
                shown = column.headers[0] if len(column.headers) == 1 else column.field
                problems.append(Problem(1, shown, "core.tabular.missing_column", dict(params)))
        return found, problems

    def describe(self, lang: str = "ja") -> dict[str, Any]:
        """What the profile expects, for ``kumin profiles show``."""

        def cols(columns: Mapping[str, Column]) -> dict[str, Any]:
            return {
                c.field: {
                    "headers": list(c.headers),
                    "type": c.type,
                    "required": c.required,
                    **({"min": c.low} if c.low is not None else {}),
                    **({"max": c.high} if c.high is not None else {}),
                }
                for c in columns.values()
            }

        return {
            "name": self.name,
            "domain": self.domain,
            "kind": self.kind,
            "title": self.title(lang),
            "source": "kumin" if self.builtin else Path(self.source).name,
            "encoding": self.encoding,
            "dates": list(self.dates),
            "missing": sorted(self.missing),
            "key": list(self.key),
            "columns": cols(self.columns),
            "files": {f: cols(c) for f, c in self.files.items()},
            "values": {k: {c: list(w) for c, w in v.items()} for k, v in self.written.items()},
            "options": dict(self.options),
        }


# --- discovery ----------------------------------------------------------------------


def _package_dir(domain: str) -> Path | None:
    try:
        folder = Path(str(resources.files(f"kumin.{domain}") / "profiles"))
    except ModuleNotFoundError:
        return None
    return folder if folder.is_dir() else None


def profile_dirs(
    domain: str | None = None, extra_dirs: Iterable[str | os.PathLike[str]] = ()
) -> list[tuple[Path, bool]]:
    """Folders searched, first match wins: ``extra_dirs`` (the settings' profile
    directory), ``KUMIN_PROFILE_DIR`` (``os.pathsep``-separated), then the
    package folders. Each comes with whether it is built in."""
    from kumin.domains import DOMAINS

    dirs = [(Path(d), False) for d in extra_dirs if d]
    env = os.environ.get(PROFILE_DIR_ENV, "")
    dirs += [(Path(p), False) for p in env.split(os.pathsep) if p]
    for d in DOMAINS:
        if domain in (None, d.name):
            folder = _package_dir(d.name)
            if folder is not None:
                dirs.append((folder, True))
    return dirs


def _domain_of(path: Path) -> str | None:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return str(data.get("domain", LEGACY_DOMAIN))


def list_profiles(
    domain: str | None = None, extra_dirs: Iterable[str | os.PathLike[str]] = ()
) -> list[Profile]:
    """Every profile that :func:`load_profile` can find (of ``domain``), one per
    (domain, name): the first found wins, as when loading."""
    seen: dict[tuple[str, str], Profile] = {}
    for folder, builtin in profile_dirs(domain, extra_dirs):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            owner = _domain_of(path)
            if owner is None or (domain is not None and owner != domain):
                continue
            if (owner, path.stem) not in seen and _NAME.fullmatch(path.stem):
                try:
                    seen[(owner, path.stem)] = read_profile(path, builtin=builtin)
                except DataError:
                    continue  # a malformed file is reported when it is loaded by name
    return sorted(seen.values(), key=lambda p: (p.domain, p.name))


def load_profile(
    domain: str,
    name: str,
    extra_dirs: Iterable[str | os.PathLike[str]] = (),
    *,
    kind: str | None = None,
    codes: Mapping[str, Iterable[str]] | None = None,
    fields: Iterable[str] | None = None,
) -> Profile:
    """The profile ``name`` of ``domain`` (and ``kind``), checked against the
    domain's ``fields`` and ``codes`` when given: every code always means itself.

    Raises :class:`NotFound` (``core.profile.not_found``) naming the profiles
    there are, and :class:`DataError` (``core.profile.invalid``) listing every
    mistake of a malformed file.
    """
    extra_dirs = list(extra_dirs)
    fields = tuple(fields) if fields is not None else None
    codes = {column: tuple(allowed) for column, allowed in (codes or {}).items()}
    text = str(name)
    if _NAME.fullmatch(text):
        for folder, builtin in profile_dirs(domain, extra_dirs):
            path = folder / f"{text}.toml"
            if not path.is_file():
                continue
            owner = _domain_of(path)
            if owner is None:  # unreadable: say why rather than "not found"
                read_profile(path, builtin=builtin)
            if owner == domain:
                profile = read_profile(path, builtin=builtin, fields=fields, codes=codes)
                if kind is None or profile.kind in ("", kind):
                    return _with_codes(profile, codes)
    available = [p.name for p in list_profiles(domain, extra_dirs) if kind in (None, p.kind)]
    raise NotFound(
        "core.profile.not_found", name=text[:64], domain=domain, available=", ".join(available)
    )


def _with_codes(profile: Profile, codes: Mapping[str, Iterable[str]] | None) -> Profile:
    """Every code of the domain always means itself."""
    values = {k: dict(v) for k, v in profile.values.items()}
    for column, allowed in (codes or {}).items():
        vocabulary = values.setdefault(column, {})
        for code in allowed:
            vocabulary.setdefault(fold(code), code)
    return Profile(**{**profile.__dict__, "values": values})


def _column(
    fld: str, spec: Any, optional: set[str], fields: tuple[str, ...] | None, problems: list[Problem]
) -> Column | None:
    if fields is not None and fld not in fields:
        allowed = ", ".join(fields)
        problems.append(Problem(None, fld, "core.profile.unknown_field", {"allowed": allowed}))
        return None
    if isinstance(spec, str):
        spec = {"headers": [spec]}
    elif isinstance(spec, list):
        spec = {"headers": spec}
    if not isinstance(spec, dict):
        problems.append(Problem(None, fld, "core.profile.bad_column", {"types": ", ".join(TYPES)}))
        return None
    headers = spec.get("headers", [])
    if isinstance(headers, str):
        headers = [headers]
    kind = spec.get("type", "text")
    if not all(isinstance(h, str) and h.strip() for h in headers) or kind not in TYPES:
        problems.append(Problem(None, fld, "core.profile.bad_column", {"types": ", ".join(TYPES)}))
        return None
    return Column(
        field=fld,
        headers=tuple(h.strip() for h in headers),
        type=kind,
        required=bool(spec.get("required", fld not in optional)),
        low=spec.get("min"),
        high=spec.get("max"),
    )


def _columns(
    raw: Any,
    where: str,
    optional: set[str],
    fields: tuple[str, ...] | None,
    problems: list[Problem],
) -> dict:
    if not isinstance(raw, dict):
        problems.append(
            Problem(None, where, "core.profile.bad_column", {"types": ", ".join(TYPES)})
        )
        return {}
    out = {}
    for fld, spec in raw.items():
        column = _column(fld, spec, optional, fields, problems)
        if column is not None:
            out[fld] = column
    keys = [header_key(h) for c in out.values() for h in {c.field, *c.headers}]
    if len(set(keys)) != len(keys):
        problems.append(Problem(None, where, "core.profile.duplicate_header"))
    return out


def read_profile(
    path: Path,
    *,
    builtin: bool = False,
    fields: Iterable[str] | None = None,
    codes: Mapping[str, Iterable[str]] | None = None,
) -> Profile:
    """Read and check one profile file: its structure and, when given, that it
    maps only ``fields`` and only onto ``codes``; every mistake is listed."""
    known = tuple(fields) if fields is not None else None
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(
            "core.profile.invalid",
            problems=[Problem(None, None, "core.profile.not_toml", {"reason": str(exc)})],
            path=path.name,
        ) from None
    problems: list[Problem] = []
    optional = data.get("optional", [])
    if not isinstance(optional, list):
        problems.append(Problem(None, "optional", "core.profile.bad_list"))
        optional = []
    opt = set(optional)
    columns = _columns(data.get("columns", {}), "columns", opt, known, problems)
    files = {
        stem: _columns(cols, f"files.{stem}", opt, None, problems)
        for stem, cols in dict(data.get("files", {})).items()
    }
    if not opt <= set(columns):
        problems.append(Problem(None, "optional", "core.profile.bad_list"))
    values: dict[str, dict[str, str]] = {}
    written: dict[str, dict[str, tuple[str, ...]]] = {}
    for column, table in dict(data.get("values", {})).items():
        vocabulary: dict[str, str] = {}
        for code, forms in dict(table).items():
            forms = [forms] if isinstance(forms, str) else forms
            if not isinstance(forms, list) or not all(isinstance(f, str) for f in forms):
                problems.append(Problem(None, f"values.{column}.{code}", "core.profile.bad_list"))
                continue
            for form in (code, *forms):
                if vocabulary.get(fold(form), code) != code:  # one written form, two meanings
                    problems.append(
                        Problem(
                            None,
                            f"values.{column}.{code}",
                            "core.profile.ambiguous",
                            {"value": form},
                        )  # fmt: skip
                    )
                vocabulary[fold(form)] = code
            written.setdefault(column, {})[code] = tuple(forms)
            if codes is not None and column in codes and code not in codes[column]:
                problems.append(
                    Problem(
                        None,
                        f"values.{column}.{code}",
                        "core.profile.unknown_code",
                        {"allowed": ", ".join(codes[column])},
                    )  # fmt: skip
                )
        values[column] = vocabulary
    missing = data.get("missing", [])
    key = data.get("key", [])
    for what, got in (("missing", missing), ("key", key)):
        if not isinstance(got, list) or not all(isinstance(m, str) for m in got):
            problems.append(Problem(None, what, "core.profile.bad_list"))
    encoding = data.get("encoding", "auto")
    if encoding not in ENCODINGS:
        problems.append(Problem(None, "encoding", "core.profile.bad_encoding"))
    dates = data.get("dates", list(DATE_FORMS))
    if not isinstance(dates, list) or not dates or not set(dates) <= set(DATE_FORMS):
        problems.append(Problem(None, "dates", "core.profile.bad_dates"))
        dates = list(DATE_FORMS)
    if problems:
        raise DataError("core.profile.invalid", problems=problems, path=path.name)
    return Profile(
        name=str(data.get("name", path.stem)),
        domain=str(data.get("domain", LEGACY_DOMAIN)),
        kind=str(data.get("kind", "")),
        title_ja=str(data.get("title_ja", data.get("description", ""))),
        title_en=str(data.get("title_en", "")),
        columns=columns,
        files=files,
        values=values,
        written=written,
        missing=frozenset(normalise_text(m) for m in missing),
        encoding=encoding,
        dates=tuple(dates),
        key=tuple(key),
        options={k: v for k, v in data.items() if k not in _KNOWN},
        source=str(path),
        builtin=builtin,
    )


# --- the result, the rejection and the row loop -----------------------------------


@dataclass
class ImportResult:
    """What an import found and did (a dry run writes nothing but counts the same).

    ``inserted``/``updated``/``unchanged`` count records; ``already`` says the
    same file was imported before; ``first``/``last`` bound the dates or times
    it covers; ``changed`` names the keys of updated rows (dates, codes — never
    personal values); ``extra`` holds a domain's own figures.
    """

    file_name: str = ""
    profile: str = ""
    encoding: str = ""
    rows: int = 0
    records: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    already: bool = False
    import_id: int | None = None
    first: Any = None
    last: Any = None
    changed: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def counted(
        cls, rows: int, inserted: int, updated: int = 0, warnings: list[Problem] | None = None
    ) -> ImportResult:
        """A result of ``rows`` records, each inserted, updated or else unchanged."""
        return cls(
            rows=rows,
            records=rows,
            inserted=inserted,
            updated=updated,
            unchanged=rows - inserted - updated,
            warnings=list(warnings or []),
        )

    def __getattr__(self, name: str) -> Any:
        # a domain's own figures read like fields: ``result.events``
        extra = self.__dict__.get("extra") or {}
        if name in extra:
            return extra[name]
        raise AttributeError(name)

    def as_dict(self, lang: str = "ja") -> dict[str, Any]:
        body = asdict(self)
        for end in ("first", "last"):
            value = body[end]
            body[end] = (
                value.isoformat(sep=" ")
                if hasattr(value, "hour")
                else (value.isoformat() if value is not None else None)
            )
        body["warnings"] = [
            {"line": w.line, "column": w.column, "message": w.render(lang)} for w in self.warnings
        ]
        extra = body.pop("extra")
        body.update(extra)
        return body

    def counts(self) -> dict[str, int]:
        """The figures an audit record keeps."""
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "warnings": len(self.warnings),
        }


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks: how imports know a file again."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def rejected(
    key: str, problems: list[Problem], path: str | os.PathLike[str] | None = None, **params: Any
) -> DataError:
    """The one rejection: every problem, ordered by file, line and column."""
    errors = sorted(
        problems,
        key=lambda p: (str(p.params.get("file", "")), p.line or 0, p.column or ""),
    )
    if path is not None:
        params.setdefault("path", Path(path).name)
    return DataError(key, problems=errors, **params)


def parse_cells(
    line: int, row: Mapping[str, Any], problems: list[Problem], **parsers: Callable[[Any], Any]
) -> dict[str, Any] | None:
    """Parse the named cells of a row; ``None`` (and the problems recorded, by
    line and column) when any fails."""
    out: dict[str, Any] = {}
    ok = True
    for column, parse in parsers.items():
        try:
            out[column] = parse(row.get(column, ""))
        except CellError as exc:
            problems.append(Problem(line, column, exc.key, exc.params))
            ok = False
    return out if ok else None


def optional(parse: Callable[[Any], Any], default: Any = None) -> Callable[[Any], Any]:
    """``parse``, but an empty cell gives ``default``."""

    def inner(value: Any) -> Any:
        return default if value is None or str(value).strip() == "" else parse(value)

    return inner


def check_rows(
    path: str | os.PathLike[str],
    columns: Iterable[str],
    parse_row: Callable[[int, dict[str, Any], list[Problem]], Any],
    warnings: list[Problem] | None = None,
    *,
    profile: Profile | None = None,
    progress: Progress = None,
    reject_key: str = "core.import.rejected",
    file: str | None = None,
) -> list[Any]:
    """Parse every row of a file, collecting every problem; raise before anything
    is written.

    ``columns`` must be present (after the ``profile``'s header mapping, when
    given; ``file`` picks its ``[files.<file>]`` table). ``parse_row(line, row, problems)`` returns the parsed row or ``None``
    (after appending its problems); problems of severity ``warning`` do not
    reject the file and go to ``warnings``.
    """
    table = read_table(path, profile.encoding if profile else "auto")
    name = Path(path).name
    rename: dict[str, str] = {}
    problems: list[Problem] = []
    if profile is not None:
        found, problems = profile.locate(table.columns, file)
        rename = {header: fld for fld, header in found.items()}
    present = {rename.get(c, c) for c in table.columns}
    problems += [Problem(1, c, "core.tabular.missing_column") for c in columns if c not in present]
    if problems:
        raise rejected("core.tabular.missing_columns", problems, name)
    out: list[Any] = []
    for line, row in table.rows:
        wp = width_problem(line, row, len(table.columns))
        if wp is not None:
            problems.append(wp)
            continue
        if rename:
            row = {rename.get(k, k): v for k, v in row.items()}
        parsed = parse_row(line, row, problems)
        if parsed is not None:
            out.append(parsed)
        if progress is not None and line % 5000 == 0:
            progress(line - 1, 0)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise rejected(reject_key, errors, name)
    if warnings is not None:
        warnings.extend(p for p in problems if p.severity != "error")
    if not out:
        raise DataError("core.import.empty", path=name)
    return out


# --- typed tables -----------------------------------------------------------------

_PARSERS: dict[str, Callable[[Column, Any], Any]] = {
    "text": lambda c, v: normalise_text(v),
    "date": lambda c, v: parse_date(v),
    "month": lambda c, v: parse_month(v),
    "time": lambda c, v: parse_time(v),
    "datetime": lambda c, v: parse_datetime(v),
    "bool": lambda c, v: parse_bool(v),
    "int": lambda c, v: parse_number(v, integer=True, low=c.low, high=c.high),
    "float": lambda c, v: parse_number(v, low=c.low, high=c.high),
}


def parse_cell(column: Column, value: Any, profile: Profile | None = None) -> Any:
    """One cell through its column's type (a ``code`` through the profile's
    vocabulary); ``None`` for an empty or "missing" cell. Raises :class:`CellError`."""
    text = normalise_text(value) if not isinstance(value, int | float) else "x"
    if text == "" or (profile is not None and text in profile.missing):
        if column.required:
            raise CellError("core.cell.required")
        return None
    if column.type == "code":
        if profile is None:
            raise CellError("core.cell.unknown_code", value=text, column=column.field)
        return profile.code(column.field, value)
    if column.type in ("date", "month", "datetime") and profile is not None:
        form = date_form(value)
        if form not in profile.dates:
            shown, allowed = cell_text(value), ", ".join(profile.dates)
            raise CellError("core.cell.date_form", value=shown, allowed=allowed)
    out = _PARSERS[column.type](column, value)
    if out is None and column.required:
        raise CellError("core.cell.required")
    return out


def read_frame(
    table: Table,
    profile: Profile,
    row_check: Callable[[int, dict[str, Any]], list[Problem]] | None = None,
    *,
    reject_key: str = "core.import.rejected",
) -> tuple[Any, list[int]]:
    """Every row of ``table`` through ``profile``'s typed columns into a polars frame.

    Returns the frame (columns in profile order; optional columns absent from the
    file are left out) and the source line of each row. ``row_check(line,
    values)`` adds problems that involve several cells; it sees rows whose cells
    all parsed. Raises one ``DataError`` with every problem (bad cells, missing
    columns, duplicate keys, row checks) if there is any.
    """
    import polars as pl

    name = table.path.name
    present, problems = profile.locate(table.columns)
    if problems:
        raise rejected(reject_key, problems, name)
    columns = [c for c in profile.columns.values() if c.field in present]
    data: dict[str, list[Any]] = {c.field: [] for c in columns}
    lines: list[int] = []
    seen: dict[tuple[Any, ...], int] = {}
    for line, row in table.rows:
        wrong = width_problem(line, row, len(table.columns))
        if wrong:
            problems.append(wrong)
            continue
        before = len(problems)
        values: dict[str, Any] = {}
        for c in columns:
            try:
                values[c.field] = parse_cell(c, row.get(present[c.field], ""), profile)
            except CellError as exc:
                problems.append(Problem(line, c.field, exc.key, exc.params))
                values[c.field] = None
        if row_check is not None and len(problems) == before:
            problems.extend(row_check(line, values))
        key = tuple(values.get(k) for k in profile.key)
        if profile.key and None not in key:
            if key in seen:
                shown = " ".join(str(k) for k in key)
                params = {"value": shown, "first": seen[key]}
                problems.append(Problem(line, profile.key[-1], "core.import.duplicate", params))
            else:
                seen[key] = line
        for c in columns:
            data[c.field].append(values[c.field])
        lines.append(line)
    if problems:
        raise rejected(reject_key, problems, name)
    if not lines:
        raise DataError("core.import.empty", path=name)
    types = {"date": pl.Date, "month": pl.Date, "int": pl.Int64, "float": pl.Float64}
    types.update(time=pl.Time, datetime=pl.Datetime("us"), bool=pl.Boolean)
    frame = pl.DataFrame(
        {
            c.field: pl.Series(c.field, data[c.field], dtype=types.get(c.type, pl.String))
            for c in columns
        }  # fmt: skip
    )
    return frame, lines
