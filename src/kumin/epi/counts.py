"""Counts files: ``kumin epi rt --counts FILE`` reads, estimates and writes without a database.

A counts file has one row per day (and region): ``date`` and either ``count`` or
``local`` with an optional ``imported`` (EpiEstim's ``incid`` with its ``local``
and ``imported`` columns), and optionally ``region``. Each region's dates must be
consecutive days without gaps or repeats (in any order in the file); counts are
whole numbers of 0 or more.

The path is vectorised end to end, because such files are large (1,741
municipalities × 800 days is 1.4 million rows): polars parses and checks the
whole file at once, regions sharing the same days become one matrix for the
estimator, and the result is written by polars. Only a file that fails the
vectorised checks is read again row by row (:func:`_read_rows`) to name every
problem by line and column; a clean file never pays for that.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from kumin.epi._checks import check_choice_param
from kumin.errors import DataError, Problem, UserError

RT_COLUMNS = ("region", "date", "r_mean", "r_median", "r_lower", "r_upper")
#: the columns a counts file may have
KNOWN_COLUMNS = ("region", "date", "count", "local", "imported")


@dataclass(frozen=True)
class CountsBlock:
    """Regions of a counts file that share the same days, as matrices.

    Attributes
    ----------
    regions : list of str or None
        One label per row (``[None]`` for a file without ``region``).
    dates : numpy.ndarray of datetime64[D], shape (T,)
    local : numpy.ndarray, shape (R, T)
        Locally infected cases (``count`` or ``local``).
    imported : numpy.ndarray or None, shape (R, T)
        Imported cases, when the file has them.
    """

    regions: list[str | None]
    dates: np.ndarray
    local: np.ndarray
    imported: np.ndarray | None


# -- reading ---------------------------------------------------------------------------


def _check_header(columns: list[str], path: Path) -> None:
    unknown = [c for c in columns if c not in KNOWN_COLUMNS]
    if unknown:
        raise DataError(
            "epi.counts.file.unknown_column",
            path=path.name,
            column=unknown[0],
            known=", ".join(KNOWN_COLUMNS),
        )
    if "date" not in columns or not ({"count", "local"} & set(columns)):
        raise DataError("core.tabular.missing_columns", columns="date, count", path=path.name)
    if "count" in columns and ({"local", "imported"} & set(columns)):
        raise DataError("epi.counts.file.count_and_local", path=path.name)


def _csv_source(path: Path, encoding: str) -> Any:
    """A path or bytes polars can read as UTF-8, or None if the file cannot be decoded."""
    from kumin.core.tabular import ENCODINGS, detect_encoding

    if encoding not in ENCODINGS:
        raise DataError("core.tabular.bad_encoding", encoding=encoding)
    if not path.is_file():
        raise DataError("core.tabular.no_file", path=str(path))
    enc = detect_encoding(path) if encoding == "auto" else encoding
    if enc != "cp932":
        return path
    try:
        return path.read_bytes().decode("cp932").encode("utf-8")
    except UnicodeDecodeError:
        return None


def _typed_frame(source: Any, columns: list[str]) -> pl.DataFrame | None:
    """The usual clean file, parsed by polars straight into dates and integers.

    None when any cell does not parse as such (a count of "1,000" or "3.0", a date
    of 2021/6/1, a blank line, a ragged row): the text path below takes over.
    """
    types = {"region": pl.Utf8, "date": pl.Date}
    schema = {c: types.get(c, pl.Int64) for c in columns}
    try:
        frame = pl.read_csv(source, schema=schema, has_header=True)
    except (pl.exceptions.PolarsError, UnicodeDecodeError):
        return None
    local = "count" if "count" in columns else "local"
    frame = frame.select(
        pl.col("region") if "region" in columns else pl.lit(None, dtype=pl.Utf8).alias("region"),
        "date",
        pl.col(local).cast(pl.Float64).alias("local"),
        *([pl.col("imported").cast(pl.Float64)] if "imported" in columns else []),
    )
    return _stripped_regions(frame)


def _stripped_regions(frame: pl.DataFrame) -> pl.DataFrame:
    """Region labels without surrounding blanks, a blank label as no region.

    Checked on the runs of equal labels (1,741 in a file of 1.4 million rows);
    the column is rewritten only when a label needs it.
    """
    runs = frame.select(pl.col("region").rle()).unnest("region")["value"]
    clean = runs.str.strip_chars().replace("", None)
    if clean.equals(runs):
        return frame
    return frame.with_columns(pl.col("region").str.strip_chars().replace("", None))


def _raw_frame(path: Path, encoding: str) -> tuple[list[str], Any, pl.DataFrame | None]:
    """The header, the CSV source (None for .xlsx) and every cell as text (None if unreadable)."""
    from kumin.core.tabular import read_table

    if path.suffix.lower() in (".xlsx", ".xlsm"):
        # openpyxl reads the cells (an .xlsx holds at most 1,048,576 rows); checks are vectorised
        table = read_table(path, encoding)
        cols: dict[str, list[Any]] = {c: [] for c in table.columns}
        for _, row in table.rows:
            if "__width__" in row:
                return table.columns, None, None
            for c in table.columns:
                v = row[c]
                cols[c].append(v.date().isoformat() if isinstance(v, dt.datetime) else str(v))
        return table.columns, None, pl.DataFrame(cols, schema={c: pl.Utf8 for c in cols})
    source = _csv_source(path, encoding)
    if source is None:
        return [], None, None
    try:
        header = pl.read_csv(source, n_rows=0, infer_schema=False).columns
    except (pl.exceptions.PolarsError, UnicodeDecodeError):
        return [], None, None
    columns = [c.strip().lstrip("\ufeff") for c in header]
    return columns, source, None


def _text_frame(source: Any, columns: list[str]) -> pl.DataFrame | None:
    try:
        frame = pl.read_csv(source, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, UnicodeDecodeError):
        return None
    return frame.rename(dict(zip(frame.columns, columns, strict=True)))


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells to typed columns ``region, date, local[, imported]`` (null where unreadable)."""
    has_region = "region" in frame.columns
    local_col = "count" if "count" in frame.columns else "local"

    def count(name: str) -> pl.Expr:
        return (
            pl.col(name)
            .str.strip_chars()
            .str.replace_all(",", "", literal=True)
            .cast(pl.Float64, strict=False)
        )

    exprs = [
        (
            pl.col("region").str.strip_chars().replace("", None)
            if has_region
            else pl.lit(None, dtype=pl.Utf8)
        ).alias("region"),
        pl.col("date")
        .str.strip_chars()
        .str.replace_all("/", "-", literal=True)
        .str.to_date("%Y-%m-%d", strict=False)
        .alias("date"),
        count(local_col).alias("local"),
    ]
    if "imported" in frame.columns:
        exprs.append(count("imported").alias("imported"))
    return frame.select(exprs)


def _valid(typed: pl.DataFrame) -> bool:
    """Every date and count read, and counts whole and >= 0."""
    numbers = [c for c in ("local", "imported") if c in typed.columns]
    bad = pl.col("date").is_null()
    for c in numbers:
        bad = bad | pl.col(c).is_null() | (pl.col(c) < 0) | (pl.col(c) != pl.col(c).floor())
        bad = bad | ~pl.col(c).is_finite()
    return typed.height > 0 and not typed.select(bad.any()).item()


def _blocks(typed: pl.DataFrame, step_days: int = 1) -> list[CountsBlock] | None:
    """Matrices of regions with the same days; None if a region's days repeat or have a gap.

    Regions come out sorted by label (no region last), each block in that order.
    """
    contiguous = _contiguous_blocks(typed, step_days)
    if contiguous is not None:
        return contiguous
    typed = typed.sort("region", "date", nulls_last=True)
    # sorted, each region's days must step by exactly one (a week): no repeat, no gap
    same = pl.col("region").eq_missing(pl.col("region").shift())
    step = pl.col("date").diff().dt.total_days()
    if typed.select((same & (step != step_days)).any()).item():
        return None
    spans = typed.group_by("region", maintain_order=True).agg(
        pl.col("date").first().alias("first"), pl.len().alias("n")
    )
    has_imported = "imported" in typed.columns
    blocks = []
    for (first, n), part in spans.group_by(["first", "n"], maintain_order=True):
        regions = part["region"].to_list()
        rows = typed.filter(pl.col("region").is_in(part["region"].drop_nulls().implode()))
        if None in regions:
            rows = pl.concat([rows, typed.filter(pl.col("region").is_null())])
        shape = (len(regions), int(n))
        dates = np.datetime64(first, "D") + np.arange(int(n)) * step_days
        blocks.append(
            CountsBlock(
                regions,
                dates,
                rows["local"].to_numpy().reshape(shape),
                rows["imported"].to_numpy().reshape(shape) if has_imported else None,
            )
        )
    return blocks


def _contiguous_blocks(typed: pl.DataFrame, step_days: int) -> list[CountsBlock] | None:
    """:func:`_blocks` without sorting 1.4 million rows, for the usual file: each
    region's rows together and in date order. None when the file is not so (the
    general path then sorts it); the blocks are the same as the general path's."""
    runs = typed.select(pl.col("region").rle()).unnest("region")
    labels = runs["value"].to_list()
    if len(set(labels)) != len(labels):  # a region in two places: not contiguous
        return None
    same = pl.col("region").eq_missing(pl.col("region").shift())
    step = pl.col("date").diff().dt.total_days()
    if typed.select((same & (step != step_days)).any()).item():
        return None
    lengths = runs["len"].to_numpy().astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    firsts = typed["date"].gather(starts).to_list()
    # the general path's order: regions sorted (no region last), blocks as first met
    order = sorted(range(len(labels)), key=lambda i: (labels[i] is None, labels[i] or ""))
    groups: dict[tuple[dt.date, int], list[int]] = {}
    for i in order:
        groups.setdefault((firsts[i], int(lengths[i])), []).append(i)
    columns = ["local"] + (["imported"] if "imported" in typed.columns else [])
    values = {c: typed[c].to_numpy() for c in columns}
    blocks = []
    for (first, n), members in groups.items():
        if len(members) == len(labels) and members == sorted(members):
            rows = {c: v.reshape(len(members), n) for c, v in values.items()}  # no copy
        else:
            index = (starts[members][:, None] + np.arange(n)).ravel()
            rows = {c: v[index].reshape(len(members), n) for c, v in values.items()}
        dates = np.datetime64(first, "D") + np.arange(n) * step_days
        blocks.append(
            CountsBlock([labels[i] for i in members], dates, rows["local"], rows.get("imported"))
        )
    return blocks


def read_counts(path: str | Path, encoding: str = "auto", step_days: int = 1) -> list[CountsBlock]:
    """Read a counts file (CSV in UTF-8/CP932 or .xlsx) into matrices; problems by line.

    ``step_days`` is 1 for daily counts, 7 for weekly counts (one row per week,
    dated by the week's first day).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "c.csv")
    >>> _ = open(p, "w").write("date,count\\n2021-06-01,3\\n2021-06-02,5\\n")
    >>> b = read_counts(p)[0]
    >>> b.regions, b.local.tolist(), str(b.dates[-1])
    ([None], [[3.0, 5.0]], '2021-06-02')
    """
    path = Path(path)
    columns, source, raw = _raw_frame(path, encoding)
    if columns:
        _check_header(columns, path)
    typed = _typed_frame(source, columns) if source is not None else None
    if typed is not None:
        blocks = _blocks(typed, step_days) if _valid(typed) else None
        if blocks is not None:
            return blocks
    if raw is None and source is not None:
        raw = _text_frame(source, columns)
    if raw is not None:
        if raw.height == 0:
            raise DataError("epi.counts.empty", path=path.name)
        typed = _clean(raw)
        blocks = _blocks(typed, step_days) if _valid(typed) else None
        if blocks is not None:
            return blocks
    # something is wrong (or unusual, such as blank lines): read row by row to say what
    return _read_rows(path, encoding, step_days)


def _parse_date(text: Any) -> dt.date | None:
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    value = str(text).strip().replace("/", "-")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        parts = value.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                return None
        return None


def _parse_count(text: Any) -> int | None:
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if text >= 0 else None
    if isinstance(text, float):
        return int(text) if text.is_integer() and text >= 0 else None
    value = str(text).strip().replace(",", "")
    if value.isdigit():
        return int(value)
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() and number >= 0 else None


def _read_rows(path: Path, encoding: str, step_days: int = 1) -> list[CountsBlock]:
    """The row-by-row reader: every problem with its line and column."""
    from kumin.core.tabular import read_table, width_problem

    table = read_table(path, encoding)
    _check_header(table.columns, path)
    has_region = "region" in table.columns
    numbers = ["count"] if "count" in table.columns else ["local"]
    if "imported" in table.columns:
        numbers.append("imported")
    problems: list[Problem] = []
    seen: dict[tuple[str | None, dt.date], int] = {}
    by_region: dict[str | None, list[tuple[dt.date, tuple[int, ...], int]]] = {}
    for line, row in table.rows:
        wp = width_problem(line, row, len(table.columns))
        if wp:
            problems.append(wp)
            continue
        day = _parse_date(row["date"])
        values = tuple(_parse_count(row[c]) for c in numbers)
        region = (str(row["region"]).strip() or None) if has_region else None
        if day is None:
            problems.append(Problem(line, "date", "epi.counts.bad_date", {"value": row["date"]}))
        for c, v in zip(numbers, values, strict=True):
            if v is None:
                problems.append(Problem(line, c, "epi.counts.bad_count", {"value": row[c]}))
        if day is None or None in values:
            continue
        first = seen.setdefault((region, day), line)
        if first != line:
            problems.append(
                Problem(line, "date", "epi.counts.duplicate", {"date": day, "first": first})
            )
            continue
        by_region.setdefault(region, []).append((day, values, line))  # type: ignore[arg-type]
    blocks: dict[tuple[dt.date, int], list[tuple[str | None, np.ndarray]]] = {}
    for region, items in sorted(by_region.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        items.sort()
        for (prev, _, _), (day, _, line) in zip(items, items[1:], strict=False):
            if (day - prev).days != step_days:
                problems.append(
                    Problem(line, "date", "epi.counts.gap", {"date": day, "previous": prev})
                )
        values = np.array([v for _, v, _ in items], dtype=np.float64).T
        blocks.setdefault((items[0][0], len(items)), []).append((region, values))
    if problems:
        raise DataError("epi.counts.invalid", problems=problems, path=path.name)
    if not blocks:
        raise DataError("epi.counts.empty", path=path.name)
    out = []
    for (first, n), members in blocks.items():
        stacked = np.stack([v for _, v in members])  # (R, columns, T)
        out.append(
            CountsBlock(
                [r for r, _ in members],
                np.datetime64(first, "D") + np.arange(n) * step_days,
                stacked[:, 0],
                stacked[:, 1] if stacked.shape[1] > 1 else None,
            )
        )
    return out


# -- the action ------------------------------------------------------------------------


def parse_uncertain_si(text: str) -> dict[str, float]:
    """``"std_mean_si=1,min_mean_si=1,..."`` (EpiEstim's config names) as a mapping.

    Examples
    --------
    >>> parse_uncertain_si("std_mean_si=1, n1=100")
    {'std_mean_si': 1.0, 'n1': 100}
    """
    from kumin.epi.rt import UncertainSI

    keys = ", ".join(f.name for f in fields(UncertainSI))
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        try:
            number = float(value)
        except ValueError:
            raise UserError("epi.rt_options.uncertain_si", keys=keys, value=part) from None
        out[key.strip()] = int(number) if key.strip() in ("n1", "n2") else number
    return out


def _estimator_params(
    method: str,
    window: int,
    si_mean: float,
    si_sd: float,
    si_distribution: str,
    si_file: Path | None,
    uncertain_si: Mapping[str, Any] | None,
    encoding: str,
) -> dict[str, Any]:
    from kumin.epi.epiestim import SI_FAMILIES, read_pmf, serial_interval_pmf
    from kumin.epi.rt import RtEstimator

    check_choice_param(si_distribution, "si_distribution", "kumin epi rt", SI_FAMILIES)
    params: dict[str, Any] = {
        "method": method,
        "window": window,
        "si_mean": si_mean,
        "si_sd": si_sd,
    }
    if si_file is not None and (si_distribution != "gamma" or uncertain_si):
        raise UserError("epi.rt_options.si_conflict")
    if si_file is not None:
        params["generation_interval"] = read_pmf(si_file, encoding)
    elif si_distribution != "gamma":
        if uncertain_si:
            raise UserError("epi.rt_options.si_conflict")
        # long enough that the truncated tail is negligible (EpiEstim: sum within 0.01)
        params["generation_interval"] = serial_interval_pmf(si_distribution, si_mean, si_sd, 400)
    if uncertain_si:
        params.update(uncertain_si=dict(uncertain_si), random_state=0)
    RtEstimator(**params)._check_params()  # fail on bad parameters before reading the file
    return params


def rt_from_counts(
    path: str | Path,
    *,
    method: str = "cori",
    window: int = 7,
    si_mean: float = 4.8,
    si_sd: float = 2.3,
    encoding: str = "auto",
    start: dt.date | None = None,
    end: dt.date | None = None,
    si_distribution: str = "gamma",
    si_file: str | Path | None = None,
    uncertain_si: Mapping[str, Any] | None = None,
    windows: Sequence[tuple[dt.date, dt.date]] | None = None,
    weekly: bool = False,
) -> pl.DataFrame:
    """Rt of every region of a counts file: ``region, date, r_mean, r_median, r_lower, r_upper``.

    ``date`` is the last day of the window; ``region`` is null when the file has
    none. Regions sharing the same days are estimated in one vectorised call.
    EpiEstim's options: ``imported`` cases in the file count as infectors only
    (``incid$imported``); the serial interval is EpiEstim's gamma from
    ``si_mean``/``si_sd`` (``parametric_si``), another family
    (``si_distribution``), a pmf file (``si_file``, ``non_parametric_si``) or
    uncertain (``uncertain_si``, EpiEstim's config names); ``windows`` are custom
    (first day, last day) windows instead of sliding ones (``t_start``/``t_end``);
    ``weekly`` reads one row per week (dated by its first day) and estimates as
    ``estimate_R_agg`` (daily incidence reconstructed, sliding windows of
    ``window`` days). ``start`` and ``end`` keep the windows ending in that
    period; the estimate still uses every earlier day of the file.

    High posterior CV in a first window is a :class:`PosteriorCVWarning`.
    """
    from kumin.epi.rt import RtEstimator

    check_choice_param(method, "method", "kumin epi rt --counts", ("cori", "simple"))
    if method == "simple" and (si_file or uncertain_si or windows or weekly):
        raise UserError("epi.rt_options.not_for_simple")
    if weekly and (uncertain_si or windows):
        raise UserError("epi.rt_options.weekly_unsupported")
    params = _estimator_params(
        method, window, si_mean, si_sd, si_distribution,
        None if si_file is None else Path(si_file), uncertain_si, encoding,
    )  # fmt: skip
    frames = []
    for block in read_counts(path, encoding, 7 if weekly else 1):
        one = len(block.regions) == 1
        labels = None if one and block.regions[0] is None else block.regions
        if weekly:
            frames.append(_weekly_block(block, params, labels))
            continue
        extra = {}
        if windows:
            first = block.dates[0]
            extra["t_start"] = [(np.datetime64(a, "D") - first).astype(int) for a, _ in windows]
            extra["t_end"] = [(np.datetime64(b, "D") - first).astype(int) for _, b in windows]
        est = RtEstimator(**params, **extra)
        local = block.local[0] if one else block.local
        imported = (
            None if block.imported is None else (block.imported[0] if one else block.imported)
        )
        est.fit(local, imported=imported)
        frames.append(est.to_frame(block.dates, labels))
    frame = pl.concat(frames).select(RT_COLUMNS)
    if start is not None:
        frame = frame.filter(pl.col("date") >= start)
    if end is not None:
        frame = frame.filter(pl.col("date") <= end)
    if len(frames) == 1 and not windows:
        return frame  # one block: already by region (sorted labels), then date
    return frame.sort("region", "date", nulls_last=True)


def _weekly_block(block: CountsBlock, params: dict[str, Any], labels: list | None) -> pl.DataFrame:
    """Each region's weekly counts through EpiEstim's EM reconstruction (one series at a time)."""
    from kumin.epi.epiestim import estimate_r_aggregated

    if block.imported is not None:
        raise UserError("epi.rt_options.weekly_unsupported")
    inner = {k: v for k, v in params.items() if k not in ("method", "window")}
    days = block.dates[0] + np.arange(block.local.shape[1] * 7)
    frames = []
    for i, counts in enumerate(block.local):
        res = estimate_r_aggregated(counts, dt=7, dt_out=params["window"], **inner)
        frames.append(res.estimator.to_frame(days, None if labels is None else [labels[i]]))
    return pl.concat(frames)


# -- writing ---------------------------------------------------------------------------


def _single(frame: pl.DataFrame) -> pl.DataFrame:
    """Floats in single precision: written as the shortest decimal that reads back
    to the same 32-bit float (at most 9, mostly 7-8 significant digits, relative
    error < 1.2e-7). An estimate means no more (its credible interval is far wider),
    and it is the precision polars writes fastest: rounding to a number of digits
    first cost a third more than the whole float writing (#12)."""
    return frame.with_columns(pl.col(pl.Float64).cast(pl.Float32))


def _neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """:func:`~kumin.core.tabular.neutralise_frame`, checked on the runs of equal
    labels (1,741 regions, not 1.4 million cells); all cells only if one needs it."""
    from kumin.core.tabular import neutralise_frame

    text = [c for c, t in frame.schema.items() if t == pl.String]
    runs = pl.DataFrame([frame[c].rle().struct.field("value") for c in text])
    return frame if neutralise_frame(runs).equals(runs) else neutralise_frame(frame)


def _dates_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Date columns as ISO text, each distinct day formatted once (a result repeats
    the same few hundred days for every region)."""
    out = []
    for name in (c for c, t in frame.schema.items() if t == pl.Date):
        days = frame[name].to_physical()
        if days.null_count() == days.len():
            continue
        first, last = days.min(), days.max()
        labels = pl.Series(
            [str(dt.date(1970, 1, 1) + dt.timedelta(days=d)) for d in range(first, last + 1)]
        )
        out.append(labels.gather(days - first).alias(name))
    return frame.with_columns(out)


def write_frame(frame: pl.DataFrame, fmt: str, out: Path | None = None) -> bytes:
    """A result frame as CSV (UTF-8 with BOM, CRLF), JSON or .xlsx, rendered by polars;
    floats in single precision (:func:`_single`).

    ``fmt`` is ``csv``, ``json`` or ``xlsx``. With ``out`` the file is written
    (atomically, streamed by polars for CSV and JSON) and ``b""`` returned;
    without it, the bytes.
    """
    from kumin.core.tabular import atomic_write, atomic_write_bytes, xlsx_bytes

    frame = _single(frame)
    if fmt == "csv":
        frame = _dates_as_text(_neutralised(frame))

    def render(fh: Any) -> None:
        if fmt == "csv":
            frame.write_csv(fh, include_bom=True, line_terminator="\r\n", null_value="")
        else:
            frame.write_json(fh)
            fh.write(b"\n")

    if fmt == "xlsx":
        # the cells hold the same short decimals as the CSV (a float32 read back as
        # a Python float would show 17 digits)
        text = frame.with_columns(
            pl.col(pl.Date).cast(pl.Utf8), pl.col(pl.Float32).cast(pl.Utf8).cast(pl.Float64)
        )
        data = xlsx_bytes(text.columns, text.iter_rows())
        if out is None:
            return data
        atomic_write_bytes(out, data)
        return b""
    if out is not None:
        atomic_write(out, render)
        return b""
    buf = io.BytesIO()
    render(buf)
    return buf.getvalue()


__all__ = [
    "KNOWN_COLUMNS",
    "RT_COLUMNS",
    "CountsBlock",
    "parse_uncertain_si",
    "read_counts",
    "rt_from_counts",
    "write_frame",
]
