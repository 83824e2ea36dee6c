"""The Ministry's monthly My Number card figures for every municipality.

Reads the snapshot files of codeforjapan/mynumbercard_statistics
(``static/data/<YYYYMMDD>/all_localgovs.csv``: 算出基準日, 都道府県名, 市区町村名,
総数（人口）, 交付枚数, 人口に対する交付枚数率, 人口算出基準日, 交付件数基準日, 団体コード),
and compares a ward's card ratio with Tokyo's 23 wards, its prefecture and the
country.

Quirks handled here:

* UTF-8 with a BOM, quoted fields (read through :func:`kumin.core.tabular.read_table`);
* 団体コード is stored as an integer, so 011002 (札幌市) arrives as 11002: the code
  is restored to six digits and its check digit verified;
* from 2021-08 two island municipalities lost their district prefix (三宅島三宅村 →
  三宅村, 八丈島八丈町 → 八丈町) and, with it, their code (written ``<NA>``): the
  code is found again from ``citycode.csv`` or from the same name in other
  snapshots (see :func:`fill_missing_codes`);
* ``latest/`` is a stale copy of one dated snapshot: a snapshot is identified by
  its 算出基準日 column, not its folder, and a date already read is skipped;
* an HTML page saved under a .csv or .xlsx name is rejected;
* the Ministry's wording changes (交付枚数 → 保有枚数): headers go through
  the ``mic_national`` profile; a file without 団体コード gets its codes from the
  code table that ships with kumin (``lgcodes.csv``: 総務省 全国地方公共団体コード,
  1,741 municipalities and wards, as compiled in codeforjapan/mynumbercard_statistics
  ``data/citycode.csv``, MIT), which also resolves codes written ``<NA>`` without a
  ``citycode.csv`` beside the files; 5-digit codes without check digit (13112) are
  accepted beside 6-digit ones;
* 人口算出基準日 (the population's reference date, a year behind) is kept.

Example
-------
>>> restore_code6(11002), restore_code6("131121")
('011002', '131121')
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path

import polars as pl

from kumin.core.cells import parse_date, parse_number, require, strict
from kumin.core.imports import header_key, load_profile, parse_cells
from kumin.core.tabular import read_table, require_columns, width_problem
from kumin.errors import DataError, Problem

COLUMNS = {
    "date": "算出基準日",
    "pref": "都道府県名",
    "municipality": "市区町村名",
    "population": "総数（人口）",
    "cards": "交付枚数",
    "rate": "人口に対する交付枚数率",
    "code": "団体コード",
    "population_date": "人口算出基準日",
}
REQUIRED = ("date", "pref", "municipality", "population", "cards")
FILE_NAME = "all_localgovs.csv"
SCHEMA = {
    "date": pl.Date,
    "pref": pl.Utf8,
    "municipality": pl.Utf8,
    "code6": pl.Utf8,
    "population": pl.Int64,
    "cards": pl.Int64,
    "rate": pl.Float64,
    "population_date": pl.Date,
}
MISSING_CODES = ("", "<NA>", "NA", "nan")
SETAGAYA = "131121"
TOKYO_WARDS = range(13101, 13124)  # 特別区: 5-digit codes 13101 (千代田区) .. 13123 (江戸川区)


def check_digit(code5: str) -> int:
    """Check digit of a 5-digit local-government code (weights 6..2, modulus 11)."""
    rem = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2), strict=True)) % 11
    return (11 - rem) % 10


def restore_code6(value: int | str) -> str:
    """The 6-digit code from a 6-digit code, one that lost its leading zero
    (11002 → 011002), or a 5-digit code without check digit (13112 → 131121).

    A 5-digit value is read as a 6-digit code that lost its zero when that has a
    valid check digit and names a municipality of the code table; else as a code
    without check digit when that names one. Raises a :class:`DataError` when the
    value is not a code, or its check digit is wrong.
    """
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit() or not 5 <= len(text) <= 6:
        raise DataError("cards.national.bad_code", value=text)
    code = text.zfill(6)
    valid = check_digit(code[:5]) == int(code[5])
    if len(text) == 5 and not (valid and code in known_codes()):
        with_digit = code6(text)
        if with_digit in known_codes():
            return with_digit
    if not valid:
        raise DataError("cards.national.bad_check_digit", value=code)
    return code


@cache
def builtin_citycodes() -> dict[tuple[str, str], str]:
    """The code table that ships with kumin (see the module's notes)."""
    return read_citycodes(Path(str(resources.files("kumin.cards") / "lgcodes.csv")))


@cache
def known_codes() -> frozenset[str]:
    return frozenset(builtin_citycodes().values())


@cache
def header_aliases() -> dict[str, str]:
    """Normalised header → column key, from the ``mic_national`` profile
    (``kumin/cards/profiles/mic_national.toml``, or a ward's own of that name)."""
    profile = load_profile("cards", "mic_national", kind="national")
    out: dict[str, str] = {}
    for column in profile.columns.values():
        for name in column.headers:
            out[_header_key(name)] = column.field
    return out


_DATED = re.compile(r"[(（][^()（）]*[)）]$")


def _header_key(header: str) -> str:
    """As every profile's headers, and without a trailing "(R7.1.1)":
    「人口(R7.1.1)」 and 「人口」 match."""
    text = header_key(header)
    stripped = _DATED.sub("", text)
    return stripped if stripped and any(ch.isdigit() for ch in text[len(stripped) :]) else text


def code6(code5: str | int) -> str:
    """The 6-digit code (with check digit) of a 5-digit code: ``code6(13112) == '131121'``."""
    text = str(code5).zfill(5)
    return text + str(check_digit(text))


def _looks_like_html(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(512).lstrip(b"\xef\xbb\xbf").lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body"))


def read_snapshot(path: str | os.PathLike[str]) -> pl.DataFrame:
    """One ``all_localgovs.csv`` as a frame (date, pref, municipality, code6, population,
    cards, rate); all problems of the file are reported together."""
    path = Path(path)
    if path.is_file() and _looks_like_html(path):
        raise DataError("cards.national.html", path=path.name)
    table = read_table(path)
    aliases = header_aliases()
    found: dict[str, str] = {}  # column key → the file's header
    for header in table.columns:
        key = aliases.get(_header_key(header))
        if key and key not in found:
            found[key] = header
    missing = [COLUMNS[k] for k in REQUIRED if k not in found]
    if missing:
        raise DataError(
            "core.tabular.missing_columns",
            problems=[Problem(1, c, "core.tabular.missing_column") for c in missing],
            path=path.name,
        )
    rows: dict[str, list] = {k: [] for k in SCHEMA}
    problems: list[Problem] = []
    # the core's cell parsers, keyed by the file's own headers so that every
    # problem names the column as the file writes it
    parsers = {
        "date": strict(parse_date),
        "pref": require,
        "municipality": require,
        "population": strict(lambda v: parse_number(v, integer=True, low=1)),
        "cards": strict(lambda v: parse_number(v, integer=True, low=0)),
        "rate": parse_number,
        "population_date": parse_date,
    }
    by_header = {found[k]: parse for k, parse in parsers.items() if k in found}
    for line, row in table.rows:
        bad = width_problem(line, row, len(table.columns))
        if bad:
            problems.append(bad)
            continue
        got = parse_cells(line, row, problems, **by_header)
        raw_code = str(row.get(found.get("code", ""), "")).strip()
        try:
            code = None if raw_code in MISSING_CODES else restore_code6(raw_code)
        except DataError as exc:
            problems.append(Problem(line, found.get("code"), exc.key, exc.params))
            continue
        if got is None:
            continue
        values = {k: got.get(found.get(k, "")) for k in parsers}
        if values["rate"] is None:
            values["rate"] = round(values["cards"] / values["population"] * 100, 1)
        values["code6"] = code
        for k in SCHEMA:
            rows[k].append(values[k])
    if problems:
        raise DataError("cards.national.bad_file", problems=problems, path=path.name)
    if len(set(rows["date"])) > 1:
        raise DataError("cards.national.mixed_dates", path=path.name)
    return pl.DataFrame(rows, schema=SCHEMA)


def snapshot_files(root: str | os.PathLike[str]) -> list[Path]:
    """Every ``all_localgovs.csv`` under ``root`` (the repository, ``static/data``, or one
    folder), dated folders first in date order, ``latest/`` last."""
    root = Path(root)
    for sub in ("static/data", "data"):
        if (root / sub).is_dir():
            root = root / sub
            break
    if (root / FILE_NAME).is_file():
        return [root / FILE_NAME]
    files = sorted(
        root.glob(f"*/{FILE_NAME}"), key=lambda p: (not p.parent.name.isdigit(), p.parent.name)
    )
    if not files:
        raise DataError("cards.national.no_files", path=str(root))
    return files


def read_citycodes(path: str | os.PathLike[str]) -> dict[tuple[str, str], str]:
    """``citycode.csv`` (団体コード, 都道府県名, 郡名, 市区町村名) as {(pref, name): code6}.

    Each municipality is keyed both by its name and by district + name
    (三宅島三宅村), the two spellings the snapshots use.
    """
    table = read_table(path)
    require_columns(table, ("団体コード", "都道府県名", "郡名", "市区町村名"))
    out: dict[tuple[str, str], str] = {}
    for _line, row in table.rows:
        code = restore_code6(row["団体コード"])
        pref, district, name = (row[k].strip() for k in ("都道府県名", "郡名", "市区町村名"))
        out[(pref, name)] = code
        if district:
            out[(pref, district + name)] = code
    return out


def fill_missing_codes(
    frame: pl.DataFrame, citycodes: dict[tuple[str, str], str] | None = None
) -> pl.DataFrame:
    """Fill null ``code6`` from ``citycodes`` or from rows with the same (pref, name).

    Raises a :class:`DataError` naming every municipality still without a code.
    """
    missing = frame.filter(pl.col("code6").is_null())
    if missing.is_empty():
        return frame
    known = dict(citycodes or {})
    for pref, name, code in (
        frame.filter(pl.col("code6").is_not_null())
        .select("pref", "municipality", "code6")
        .unique()
        .iter_rows()
    ):
        known.setdefault((pref, name), code)
    lookup = pl.DataFrame(
        {
            "pref": [k[0] for k in known],
            "municipality": [k[1] for k in known],
            "found": list(known.values()),
        },
        schema={"pref": pl.Utf8, "municipality": pl.Utf8, "found": pl.Utf8},
    )
    out = (
        frame.join(lookup, on=["pref", "municipality"], how="left")
        .with_columns(pl.coalesce("code6", "found").alias("code6"))
        .drop("found")
    )
    still = out.filter(pl.col("code6").is_null()).select("pref", "municipality").unique()
    if still.height:
        raise DataError(
            "cards.national.unresolved_codes",
            problems=[
                Problem(
                    None, COLUMNS["code"], "cards.national.no_code", {"pref": p, "municipality": m}
                )
                for p, m in still.iter_rows()
            ],
        )
    return out


def load_national(root: str | os.PathLike[str]) -> pl.DataFrame:
    """All snapshots under ``root`` in one frame, one row per (date, code6).

    A snapshot whose 算出基準日 was already read (the stale ``latest/`` copy) is
    skipped whole; the frame's ``date`` is the 算出基準日, never the folder name.
    Codes written ``<NA>`` are filled from ``citycode.csv`` when it lies in ``root``,
    else from the same name in other snapshots.
    """
    frames: list[pl.DataFrame] = []
    seen: set[dt.date] = set()
    for path in snapshot_files(root):
        frame = read_snapshot(path)
        if frame.is_empty():
            continue
        day = frame["date"][0]
        if day in seen:
            continue
        seen.add(day)
        frames.append(frame)
    citycodes = dict(builtin_citycodes())
    citycode_file = Path(root) / "citycode.csv"
    if citycode_file.is_file():  # a newer table beside the files wins
        citycodes.update(read_citycodes(citycode_file))
    return fill_missing_codes(pl.concat(frames), citycodes).sort(["date", "code6"])


def _rate(cards: pl.Expr, population: pl.Expr) -> pl.Expr:
    return (cards / population * 100).round(1)


def ratio_over_time(national: pl.DataFrame, ward_code6: str = SETAGAYA) -> pl.DataFrame:
    """The ward's card ratio by date beside Tokyo's 23 wards, its prefecture and Japan.

    Columns: date, ward, tokyo_23_wards, prefecture, country (percent, one decimal,
    recomputed from the summed cards and population), rank (1 = highest ratio of
    all municipalities), municipalities (how many were ranked), percentile (share
    of the other municipalities with a lower ratio, percent: 100 = the highest,
    0 = the lowest), rank_in_23_wards (null outside Tokyo's 23 wards) and
    population_date (人口算出基準日 of the ward's figure, when the file had it).
    """
    if "population_date" not in national.columns:
        national = national.with_columns(pl.lit(None, pl.Date).alias("population_date"))
    code = restore_code6(ward_code6)
    ward = national.filter(pl.col("code6") == code)
    if ward.is_empty():
        raise DataError("cards.national.unknown_code", value=code)
    pref = ward["pref"][0]
    n = national.with_columns(
        (
            pl.col("code6")
            .str.slice(0, 5)
            .cast(pl.Int64)
            .is_between(TOKYO_WARDS.start, TOKYO_WARDS.stop - 1)
        ).alias("is_tokyo_ward"),
        (pl.col("cards") / pl.col("population")).alias("share"),
    ).with_columns(
        pl.col("share").rank("min", descending=True).over("date").alias("rank"),
        pl.len().over("date").alias("municipalities"),
    )
    wards_23 = n.filter(pl.col("is_tokyo_ward")).with_columns(
        pl.col("share").rank("min", descending=True).over("date").alias("rank_in_23_wards")
    )

    def summed(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return frame.group_by("date").agg(
            _rate(pl.col("cards").sum(), pl.col("population").sum()).alias(name)
        )

    out = (
        n.filter(pl.col("code6") == code)
        .select(
            "date",
            _rate(pl.col("cards"), pl.col("population")).alias("ward"),
            pl.col("rank").cast(pl.Int64),
            pl.col("municipalities").cast(pl.Int64),
            (
                100
                * (pl.col("municipalities") - pl.col("rank"))
                / (pl.col("municipalities") - 1).clip(lower_bound=1)
            )
            .round(1)
            .alias("percentile"),
            "population_date",
        )
        .join(summed(n.filter(pl.col("is_tokyo_ward")), "tokyo_23_wards"), on="date", how="left")
        .join(summed(n.filter(pl.col("pref") == pref), "prefecture"), on="date", how="left")
        .join(summed(n, "country"), on="date", how="left")
        .join(
            wards_23.filter(pl.col("code6") == code).select(
                "date", pl.col("rank_in_23_wards").cast(pl.Int64)
            ),
            on="date",
            how="left",
        )
    )
    return out.select(
        "date",
        "ward",
        "tokyo_23_wards",
        "prefecture",
        "country",
        "rank",
        "municipalities",
        "percentile",
        "rank_in_23_wards",
        "population_date",
    ).sort("date")
