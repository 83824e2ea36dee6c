"""Reading terminal operation logs at scale.

A log is a CSV (UTF-8, UTF-8 with BOM or CP932) or .xlsx file with the columns
``timestamp,terminal_id,operator_id,action,subject,function``. Every event keeps
the file it came from and its line (the header is line 1, the first event line 2),
so that an alert can point an auditor at the exact lines behind it.

CSV files are parsed by polars (CP932 is transcoded to UTF-8 in a stream to a
temporary file first) in a streaming query, so ten million lines cost seconds
and about half a gigabyte, never a Python object per line. The import is all-or-nothing: every
bad line is collected and reported in one :class:`~kumin.errors.DataError`.
Files with quoted line breaks, ragged rows or .xlsx go through the slower,
exact row reader of :mod:`kumin.core.tabular` so that line numbers stay true.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

from kumin.core.cells import fold
from kumin.core.imports import Profile, Progress
from kumin.core.tabular import Table, read_table, require_columns, width_problem
from kumin.errors import DataError, Problem
from kumin.oplog.profiles import ACTIONS, load_profile

LOG_COLUMNS = ("timestamp", "terminal_id", "operator_id", "action", "subject", "function")
REQUIRED = ("timestamp", "terminal_id", "operator_id", "action")
#: actions that read a resident's data; the subject rules look at these only
LOOKUP_ACTIONS = ("search", "view", "print")
assert set(LOOKUP_ACTIONS) <= set(ACTIONS)
#: The frame every rule takes. Low-cardinality columns are categorical: ten
#: million events then hold about half a gigabyte, and grouping or joining on
#: them is integer work.
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "ts": pl.Datetime("us"),
    "terminal_id": pl.Categorical(),
    "operator_id": pl.Categorical(),
    "action": pl.Categorical(),
    "subject": pl.String,
    "function": pl.Categorical(),
    "file": pl.Categorical(),
    "line": pl.UInt32,
}
CATEGORICAL = ("terminal_id", "operator_id", "action", "function")
TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
)
MAX_PROBLEMS = 200  # an import with a million bad lines reports the first ones


def empty_events() -> pl.DataFrame:
    return pl.DataFrame(schema=EVENT_SCHEMA)


def _transcode_cp932(path: Path) -> Path:
    """Stream a CP932 file into a temporary UTF-8 file; memory stays one chunk."""
    fd, tmp = tempfile.mkstemp(prefix="kumin-oplog-", suffix=".csv")
    decoder = codecs.getincrementaldecoder("cp932")()
    try:
        with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(1 << 22):
                dst.write(decoder.decode(chunk).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError:
        os.unlink(tmp)
        raise DataError("core.tabular.undecodable", path=path.name, encoding="cp932") from None
    return Path(tmp)


def _guess_format(sample: str | None) -> str:
    for fmt in TIMESTAMP_FORMATS:
        try:
            dt.datetime.strptime((sample or "").strip(), fmt)
        except ValueError:
            continue
        return fmt
    return TIMESTAMP_FORMATS[0]


def _normalise(lf: pl.LazyFrame, fmt: str, name: str) -> pl.LazyFrame:
    """Raw string columns (plus ``line``) to the event schema, lazily.

    Timestamps are parsed with one format (the first line's); what fails keeps
    its text in ``ts_raw`` (null elsewhere, so it costs nothing on a clean log).
    """
    ts = pl.col("timestamp").str.to_datetime(
        fmt, time_unit="us", strict=False, exact=True, cache=False
    )
    return lf.filter(~pl.all_horizontal(pl.col(c).is_null() for c in LOG_COLUMNS)).select(
        ts.alias("ts"),
        *(pl.col(c).fill_null("").cast(pl.Categorical()) for c in CATEGORICAL[:3]),
        pl.col("subject").fill_null("").str.strip_chars(),
        pl.col("function").fill_null("").cast(pl.Categorical()),
        pl.lit(name, pl.Categorical()).alias("file"),
        pl.col("line").cast(pl.UInt32),
        pl.when(ts.is_null()).then(pl.col("timestamp").fill_null("")).alias("ts_raw"),
    )


def _map_actions(df: pl.DataFrame, profile: Profile) -> tuple[pl.DataFrame, list[str]]:
    """Written operation names (照会, 11, View) to the rules' vocabulary, through the
    profile, on the few distinct values; returns the values it does not know."""
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    vocabulary = profile.values["action"]
    for value in df.get_column("action").unique().cast(pl.String).to_list():
        if not value:
            continue  # reported as a missing value
        action = vocabulary.get(fold(value))
        if action is None:
            unknown.append(value)
        elif action != value:
            mapping[value] = action
    if mapping:
        df = df.with_columns(
            pl.col("action").cast(pl.String).replace(mapping).cast(pl.Categorical())
        )
    return df, unknown


def _finish(df: pl.DataFrame, profile: Profile) -> tuple[pl.DataFrame, list[Problem]]:
    """Second chances and problems: other timestamp formats for what failed,
    stripped categorical values, actions through the profile, then every bad line.

    An action the profile does not know rejects the file: a lookup written in a
    vocabulary the rules do not read would otherwise pass every rule unseen."""
    failed = df.get_column("ts_raw").is_not_null()
    if failed.any():
        idx = failed.arg_true()
        rest = df.get_column("ts_raw").gather(idx).str.strip_chars()
        fixed = pl.select(
            pl.coalesce(
                rest.str.to_datetime(f, time_unit="us", strict=False, exact=True)
                for f in TIMESTAMP_FORMATS
            )
        ).to_series()
        df = df.with_columns(df.get_column("ts").scatter(idx, fixed))
    for c in CATEGORICAL:
        values = df.get_column(c).unique().cast(pl.String)
        if (values != values.str.strip_chars()).any():  # checked on the few distinct values
            df = df.with_columns(pl.col(c).cast(pl.String).str.strip_chars().cast(pl.Categorical()))
    df, unknown = _map_actions(df, profile)
    checks = [(pl.col("ts").is_null(), "timestamp", "oplog.import.bad_timestamp")]
    checks += [(pl.col(c) == "", c, "oplog.import.missing_value") for c in REQUIRED[1:]]
    checks.append(
        (
            pl.col("action").cast(pl.String).is_in(unknown),
            "action_value",
            "oplog.import.unknown_action",
        )
    )
    problems: list[Problem] = []
    bad = df.filter(pl.any_horizontal([c for c, _, _ in checks]))
    if bad.height:
        flags = bad.select(
            "line",
            "ts_raw",
            pl.col("action").cast(pl.String).alias("action_raw"),
            *(cond.alias(f"bad_{col}") for cond, col, _ in checks),
        ).head(MAX_PROBLEMS)
        known = ", ".join(ACTIONS)
        for row in flags.iter_rows(named=True):
            for _, col, key in checks:
                if not row[f"bad_{col}"]:
                    continue
                params: dict[str, object] = {}
                if col == "timestamp":
                    params = {"value": row["ts_raw"] or ""}
                elif col == "action_value":
                    col = "action"
                    params = {"value": row["action_raw"], "profile": profile.name, "known": known}
                problems.append(Problem(int(row["line"]), col, key, params))
    return df.drop("ts_raw"), problems


def _validate(df: pl.DataFrame, name: str, profile: Profile) -> tuple[pl.DataFrame, list[Problem]]:
    """Validate a frame of raw string columns with ``line``."""
    first = df.get_column("timestamp").drop_nulls().head(1).to_list()
    fmt = _guess_format(first[0] if first else None)
    return _finish(_normalise(df.lazy(), fmt, name).collect(), profile)


def _has_quotes(path: Path) -> bool:
    """Without a quote character no field can hold a line break (a fast byte scan)."""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            if b'"' in chunk:
                return True
    return False


def _has_line_breaks(df: pl.DataFrame) -> bool:
    """A quoted line break makes polars' row index drift from the file's lines."""
    if df.get_column("subject").str.contains("\n", literal=True).any():
        return True
    if df.get_column("ts_raw").drop_nulls().str.contains("\n", literal=True).any():
        return True
    return any(
        df.get_column(c).unique().cast(pl.String).str.contains("\n", literal=True).any()
        for c in CATEGORICAL
    )


def _read_exact(
    path: Path, encoding: str, name: str, profile: Profile
) -> tuple[pl.DataFrame, list[Problem]]:
    """The slow, exact path: row by row through kumin.core.tabular."""
    table = _profiled(read_table(path, encoding), profile)
    rename = dict(zip(table.raw_columns, table.columns, strict=True))
    problems: list[Problem] = []
    cols: dict[str, list[object]] = {c: [] for c in (*LOG_COLUMNS, "line")}
    for line, row in table.rows:
        p = width_problem(line, row, len(table.columns))
        if p:
            problems.append(p)
            continue
        row = {rename.get(k, k): v for k, v in row.items()}
        for c in LOG_COLUMNS:
            value = row.get(c, "")
            if hasattr(value, "strftime"):  # an .xlsx date cell
                value = value.strftime("%Y-%m-%d %H:%M:%S")
            cols[c].append("" if value is None else str(value))
        cols["line"].append(line)
    df = pl.DataFrame(cols, schema={**dict.fromkeys(LOG_COLUMNS, pl.String), "line": pl.Int64})
    out, more = _validate(df, name, profile)
    return out, sorted(problems + more, key=lambda p: p.line or 0)


def read_log(
    path: str | os.PathLike[str],
    encoding: str = "auto",
    *,
    name: str | None = None,
    progress: Progress = None,
    profile: Profile | None = None,
) -> pl.DataFrame:
    """Read one operation log into the event frame (:data:`EVENT_SCHEMA`).

    Parameters
    ----------
    path : path of a CSV (UTF-8, UTF-8 with BOM, CP932) or .xlsx file.
    encoding : ``"auto"``, ``"utf-8"`` or ``"cp932"``.
    name : what the ``file`` column records (default: the file name).
    progress : ``progress(events, events)`` once the file is parsed.
    profile : the headers and operation names the file uses (default: the
        ``kumin`` profile, which also reads Japanese names such as 照会).

    Returns
    -------
    polars.DataFrame with ``ts, terminal_id, operator_id, action, subject, function,
    file, line``; ``subject`` and ``function`` are ``""`` where the log leaves them
    empty (logins).

    Raises
    ------
    DataError
        listing every bad line (up to 200) when any line is bad; nothing is returned.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = p.write_text("timestamp,terminal_id,operator_id,action,subject,function\\n"
    ...                  "2021-04-05 09:01:00,T01,U001,view,R1,住民税\\n", encoding="utf-8")
    >>> read_log(p).select("operator_id", "line").row(0)
    ('U001', 2)
    """
    path = Path(path)
    name = name or path.name
    profile = profile or load_profile()
    if encoding == "auto":
        encoding = profile.encoding
    table = _profiled(read_table(path, encoding), profile)  # encoding, header
    if table.encoding == "xlsx":
        df, problems = _read_exact(path, encoding, name, profile)
    else:
        df, problems = _read_fast(path, table.encoding, table.columns, name, profile)
    if problems:
        raise DataError("oplog.import.rejected", problems=problems, path=name)
    if progress:
        progress(df.height, df.height)
    return df


def _profiled(table: Table, profile: Profile) -> Table:
    """The table with its header in kumin's column names (``raw_columns`` keeps
    the file's own); a header naming one column twice is an error."""
    raw = list(table.columns)
    mapped = [profile.field_for(c) or c for c in raw]
    twice = sorted({c for c in mapped if c in LOG_COLUMNS and mapped.count(c) > 1})
    if twice:
        raise DataError(
            "oplog.import.duplicate_columns",
            problems=[Problem(1, c, "oplog.import.duplicate_column") for c in twice],
            path=table.path.name,
        )
    table.columns = mapped
    table.raw_columns = raw  # type: ignore[attr-defined]
    require_columns(table, REQUIRED)
    return table


def _read_fast(
    path: Path, encoding: str, header: Sequence[str], name: str, profile: Profile
) -> tuple[pl.DataFrame, list[Problem]]:
    """Stream the CSV through polars: parse, cast and check chunk by chunk, so the
    raw text of ten million lines is never held at once."""
    source = _transcode_cp932(path) if encoding == "cp932" else path
    options = {"infer_schema": False, "new_columns": list(header)}
    try:
        try:
            head = pl.read_csv(source, n_rows=20, **options)
            first = head.get_column("timestamp").drop_nulls().head(1).to_list()
            lf = pl.scan_csv(source, row_index_name="line", row_index_offset=2, **options)
            for c in LOG_COLUMNS:
                if c not in header:
                    lf = lf.with_columns(pl.lit(None, pl.String).alias(c))
            fmt = _guess_format(first[0] if first else None)
            df = _normalise(lf, fmt, name).collect(engine="streaming")
        except pl.exceptions.ComputeError:  # ragged rows: let the exact reader name them
            return _read_exact(path, encoding.replace("-sig", ""), name, profile)
        if _has_quotes(source) and _has_line_breaks(df):
            return _read_exact(path, encoding.replace("-sig", ""), name, profile)
        return _finish(df, profile)
    finally:
        if source != path:
            os.unlink(source)


def read_logs(
    paths: Iterable[str | os.PathLike[str]],
    encoding: str = "auto",
    *,
    progress: Progress = None,
    profile: Profile | None = None,
) -> pl.DataFrame:
    """Read several logs into one event frame, all-or-nothing across files.

    Problems of every file are reported together; each problem's line is in its
    file, and the error's ``problems`` carry the file name in ``params['file']``.
    """
    frames: list[pl.DataFrame] = []
    problems: list[Problem] = []
    for p in paths:
        try:
            frames.append(read_log(p, encoding, progress=progress, profile=profile))
        except DataError as exc:
            if not exc.problems:
                raise
            problems += [
                Problem(q.line, q.column, q.key, {**q.params, "file": Path(p).name})
                for q in exc.problems
            ]
    if problems:
        raise DataError("oplog.import.rejected_many", problems=problems)
    return pl.concat(frames) if frames else empty_events()


def write_log_csv(events: pl.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write an event frame as a log CSV (UTF-8) in the import format.

    Lines follow the frame's order; the ``line`` column is ignored.
    """
    events.select(
        pl.col("ts").dt.strftime("%Y-%m-%d %H:%M:%S").alias("timestamp"), *LOG_COLUMNS[1:]
    ).write_csv(path)
