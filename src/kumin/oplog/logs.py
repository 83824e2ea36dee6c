"""Reading terminal operation logs at scale.

A log is a CSV (UTF-8, UTF-8 with BOM or CP932) or .xlsx file with the columns
``timestamp,terminal_id,operator_id,action,subject,function``. Every event keeps
the file it came from and its line (the header is line 1, the first event line 2),
so that an alert can point an auditor at the exact lines behind it.

CSV files are parsed by polars (CP932 is transcoded to UTF-8 in a stream to a
temporary file first), so ten million lines cost seconds and a few hundred
megabytes, never a Python object per line. The import is all-or-nothing: every
bad line is collected and reported in one :class:`~kumin.errors.DataError`.
Files with quoted line breaks, ragged rows or .xlsx go through the slower,
exact row reader of :mod:`kumin.core.tabular` so that line numbers stay true.
"""

from __future__ import annotations

import codecs
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import polars as pl

from kumin.core.tabular import read_table, require_columns, width_problem
from kumin.errors import DataError, Problem

LOG_COLUMNS = ("timestamp", "terminal_id", "operator_id", "action", "subject", "function")
REQUIRED = ("timestamp", "terminal_id", "operator_id", "action")
#: actions that read a resident's data; the subject rules look at these only
LOOKUP_ACTIONS = ("search", "view", "print")
#: the frame every rule takes
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "ts": pl.Datetime("us"),
    "terminal_id": pl.String,
    "operator_id": pl.String,
    "action": pl.String,
    "subject": pl.String,
    "function": pl.String,
    "file": pl.String,
    "line": pl.UInt32,
}
TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
)
MAX_PROBLEMS = 200  # an import with a million bad lines reports the first ones

Progress = Callable[[int], None]


def empty_events() -> pl.DataFrame:
    return pl.DataFrame(schema=EVENT_SCHEMA)


def _transcode_cp932(path: Path, progress: Progress | None) -> Path:
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


def _parse_timestamp(col: pl.Expr, sample: str | None) -> pl.Expr:
    """Parse with the sample's format first; other formats only fill what failed."""
    formats = list(TIMESTAMP_FORMATS)
    if sample:
        for fmt in TIMESTAMP_FORMATS:
            try:
                import datetime as dt

                dt.datetime.strptime(sample.strip(), fmt)
            except ValueError:
                continue
            formats.remove(fmt)
            formats.insert(0, fmt)
            break
    s = col.str.strip_chars()
    exprs = [s.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in formats]
    return pl.coalesce(exprs)


def _validate(df: pl.DataFrame, name: str) -> tuple[pl.DataFrame, list[Problem]]:
    """Drop blank lines, parse timestamps, collect the problems of every bad line."""
    blank = pl.all_horizontal(
        [pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in LOG_COLUMNS]
    )
    df = df.filter(~blank)
    sample = df.get_column("timestamp").drop_nulls().head(1).to_list()
    df = df.with_columns(
        _parse_timestamp(pl.col("timestamp"), sample[0] if sample else None).alias("ts"),
        *(pl.col(c).fill_null("").str.strip_chars() for c in LOG_COLUMNS[1:]),
    )
    checks = [(pl.col("ts").is_null(), "timestamp", "oplog.import.bad_timestamp")]
    checks += [(pl.col(c) == "", c, "oplog.import.missing_value") for c in REQUIRED[1:]]
    bad = df.filter(pl.any_horizontal([c for c, _, _ in checks]))
    problems: list[Problem] = []
    if bad.height:
        flags = bad.select(
            "line", "timestamp", *(cond.alias(f"bad_{col}") for cond, col, _ in checks)
        ).head(MAX_PROBLEMS)
        for row in flags.iter_rows(named=True):
            for _, col, key in checks:
                if row[f"bad_{col}"]:
                    params = {"value": row["timestamp"] or ""} if col == "timestamp" else {}
                    problems.append(Problem(int(row["line"]), col, key, params))
    out = df.select(
        "ts", *LOG_COLUMNS[1:], pl.lit(name).alias("file"), pl.col("line").cast(pl.UInt32)
    )
    return out, problems


def _has_line_breaks(df: pl.DataFrame) -> bool:
    return bool(
        df.select(
            pl.any_horizontal(
                [
                    pl.col(c).str.contains("[\r\n]").any()
                    for c in df.columns
                    if df.schema[c] == pl.String
                ]
            )
        ).item()
    )


def _read_exact(path: Path, encoding: str, name: str) -> tuple[pl.DataFrame, list[Problem]]:
    """The slow, exact path: row by row through kumin.core.tabular."""
    table = read_table(path, encoding)
    require_columns(table, LOG_COLUMNS[:4])
    problems: list[Problem] = []
    cols: dict[str, list[object]] = {c: [] for c in (*LOG_COLUMNS, "line")}
    for line, row in table.rows:
        p = width_problem(line, row, len(table.columns))
        if p:
            problems.append(p)
            continue
        for c in LOG_COLUMNS:
            value = row.get(c, "")
            if hasattr(value, "strftime"):  # an .xlsx date cell
                value = value.strftime("%Y-%m-%d %H:%M:%S")
            cols[c].append("" if value is None else str(value))
        cols["line"].append(line)
    df = pl.DataFrame(cols, schema={**dict.fromkeys(LOG_COLUMNS, pl.String), "line": pl.Int64})
    out, more = _validate(df, name)
    return out, sorted(problems + more, key=lambda p: p.line or 0)


def read_log(
    path: str | os.PathLike[str],
    encoding: str = "auto",
    *,
    name: str | None = None,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Read one operation log into the event frame (:data:`EVENT_SCHEMA`).

    Parameters
    ----------
    path : path of a CSV (UTF-8, UTF-8 with BOM, CP932) or .xlsx file.
    encoding : ``"auto"``, ``"utf-8"`` or ``"cp932"``.
    name : what the ``file`` column records (default: the file name).
    progress : called with the number of events read, once the file is parsed.

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
    table = read_table(path, encoding)  # detects the encoding, checks the header
    require_columns(table, LOG_COLUMNS[:4])
    if table.encoding == "xlsx":
        df, problems = _read_exact(path, encoding, name)
    else:
        df, problems = _read_fast(path, table.encoding, table.columns, name, progress)
    if problems:
        raise DataError("oplog.import.rejected", problems=problems, path=name)
    if progress:
        progress(df.height)
    return df


def _read_fast(
    path: Path, encoding: str, header: Sequence[str], name: str, progress: Progress | None
) -> tuple[pl.DataFrame, list[Problem]]:
    source = _transcode_cp932(path, progress) if encoding == "cp932" else path
    try:
        try:
            raw = pl.read_csv(
                source,
                infer_schema=False,
                new_columns=list(header),
                row_index_name="line",
                row_index_offset=2,
                encoding="utf8",
            )
        except pl.exceptions.ComputeError:  # ragged rows: let the exact reader name them
            return _read_exact(path, encoding.replace("-sig", ""), name)
        if _has_line_breaks(raw):
            return _read_exact(path, encoding.replace("-sig", ""), name)
        for c in LOG_COLUMNS:
            if c not in raw.columns:
                raw = raw.with_columns(pl.lit(None, pl.String).alias(c))
        return _validate(raw, name)
    finally:
        if source != path:
            os.unlink(source)


def read_logs(
    paths: Iterable[str | os.PathLike[str]],
    encoding: str = "auto",
    *,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Read several logs into one event frame, all-or-nothing across files.

    Problems of every file are reported together; each problem's line is in its
    file, and the error's ``problems`` carry the file name in ``params['file']``.
    """
    frames: list[pl.DataFrame] = []
    problems: list[Problem] = []
    for p in paths:
        try:
            frames.append(read_log(p, encoding, progress=progress))
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
