"""Reading and writing the tables offices exchange: CSV (UTF-8, UTF-8 with BOM,
CP932/Shift_JIS, detected automatically) and Excel .xlsx.

Every import in kumin reads through :func:`read_table` so that line numbers,
encodings and the all-or-nothing rule behave the same everywhere. Line numbers
count the header as line 1 and the first data row as line 2, as a spreadsheet
shows them.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from kumin.errors import DataError, Problem

ENCODINGS = ("auto", "utf-8", "cp932")

# Caps checked before any parsing, so that a hostile file costs one linear pass
# and bounded memory: no office table has a line of a megabyte or a cell of
# 128 KiB (csv's own field limit), and an .xlsx that inflates beyond 256 MiB
# is a zip bomb, not a spreadsheet.
MAX_LINE_BYTES = 1 << 20
MAX_FIELD_CHARS = 128 * 1024
MAX_XLSX_UNCOMPRESSED = 256 << 20
MAX_XLSX_MEMBERS = 10_000


def detect_encoding(path: Path, sample_bytes: int | None = None) -> str:
    """Return ``utf-8-sig`` or ``cp932`` for a CSV file.

    A BOM means UTF-8. Otherwise the file is decoded as UTF-8 incrementally (so a
    large file costs no memory); the first invalid sequence means CP932.
    """
    with open(path, "rb") as fh:
        head = fh.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        read = 0
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
                read += len(chunk)
                if sample_bytes is not None and read >= sample_bytes:
                    return "utf-8"
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp932"
    return "utf-8"


def _python_encoding(path: Path, encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise DataError("core.tabular.bad_encoding", encoding=encoding)
    if encoding == "auto":
        return detect_encoding(path)
    if encoding == "utf-8":
        return "utf-8-sig"  # tolerate a BOM even when told UTF-8
    return "cp932"


@dataclass
class Table:
    """A table read from a file: its header and an iterator of ``(line, row)``.

    ``row`` maps each header name (stripped of spaces) to the cell value: a string
    for CSV; for .xlsx, whatever the cell holds (str, int, float, datetime) with
    empty cells as ``""``.
    """

    path: Path
    columns: list[str]
    rows: Iterator[tuple[int, dict[str, Any]]]
    encoding: str


def read_table(path: str | os.PathLike[str], encoding: str = "auto") -> Table:
    """Open a CSV or .xlsx file and return its header and a lazy row iterator.

    The file is checked against the caps above first (:func:`check_file`).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("core.tabular.no_file", path=path.name)
    check_file(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    return _read_csv(path, _python_encoding(path, encoding))


def check_file(path: Path) -> None:
    """Refuse a file no importer should parse: an .xlsx that inflates beyond
    :data:`MAX_XLSX_UNCOMPRESSED` (sizes read from the zip directory, which
    bounds what :mod:`zipfile` will ever inflate), or a text file holding NUL bytes
    (binary, or UTF-16) or a line longer than :data:`MAX_LINE_BYTES`.
    """
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        _check_xlsx(path)
    else:
        _check_text(path)


def _check_xlsx(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as book:
            members = book.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise DataError("core.tabular.not_xlsx", path=path.name) from None
    total = sum(m.file_size for m in members)
    if len(members) > MAX_XLSX_MEMBERS or total > MAX_XLSX_UNCOMPRESSED:
        raise DataError(
            "core.tabular_limits.xlsx_too_large", path=path.name, limit=MAX_XLSX_UNCOMPRESSED >> 20
        )


def _check_text(path: Path) -> None:
    lines_before = 0  # newlines in earlier chunks
    current = 0  # bytes of the line still open at the end of the last chunk
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            nul = chunk.find(b"\0")
            if nul >= 0:
                line = lines_before + chunk.count(b"\n", 0, nul) + 1
                raise DataError("core.tabular_limits.binary", path=path.name, line=line)
            parts = chunk.split(b"\n")
            # split() and max() run in C: one linear pass however the lines fall.
            if current + len(parts[0]) > MAX_LINE_BYTES or (
                len(parts) > 2 and max(map(len, parts[1:-1])) > MAX_LINE_BYTES
            ):
                sizes = [current + len(parts[0]), *map(len, parts[1:])]
                first = next(i for i, n in enumerate(sizes) if n > MAX_LINE_BYTES)
                _line_too_long(path, lines_before + first + 1)
            current = (current if len(parts) == 1 else 0) + len(parts[-1])
            if current > MAX_LINE_BYTES:
                _line_too_long(path, lines_before + len(parts))
            lines_before += len(parts) - 1


def _line_too_long(path: Path, line: int) -> None:
    raise DataError(
        "core.tabular_limits.line_too_long", path=path.name, line=line, limit=MAX_LINE_BYTES >> 10
    )


def _clean_header(raw: Sequence[Any]) -> list[str]:
    return [str(c).strip().lstrip("\ufeff") if c is not None else "" for c in raw]


def _read_csv(path: Path, encoding: str) -> Table:
    fh = open(path, encoding=encoding, newline="", errors="strict")  # noqa: SIM115
    reader = csv.reader(fh)
    try:
        header = _clean_header(next(reader))
    except StopIteration:
        fh.close()
        raise DataError("core.tabular.empty", path=path.name) from None
    except UnicodeDecodeError:
        fh.close()
        raise DataError("core.tabular.undecodable", path=path.name, encoding=encoding) from None
    except csv.Error:
        fh.close()
        raise DataError(
            "core.tabular_limits.bad_csv", path=path.name, line=reader.line_num
        ) from None

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for values in reader:
                line = reader.line_num
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    yield line, {"__width__": len(values)}
                    continue
                yield line, dict(zip(header, values, strict=True))
        except UnicodeDecodeError:
            raise DataError("core.tabular.undecodable", path=path.name, encoding=encoding) from None
        except csv.Error:  # a field beyond csv's limit, or a quote never closed
            raise DataError(
                "core.tabular_limits.bad_csv", path=path.name, line=reader.line_num
            ) from None
        finally:
            fh.close()

    return Table(path, header, rows(), encoding)


def _read_xlsx(path: Path) -> Table:
    if not zipfile.is_zipfile(path):
        # Offices sometimes save an HTML error page with an .xlsx name.
        raise DataError("core.tabular.not_xlsx", path=path.name)
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken workbook
        raise DataError("core.tabular.not_xlsx", path=path.name) from None
    if not book.worksheets:
        book.close()
        raise DataError("core.tabular.empty", path=path.name)
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    try:
        header = _clean_header(next(it))
    except StopIteration:
        book.close()
        raise DataError("core.tabular.empty", path=path.name) from None
    except Exception:  # a broken sheet inside a valid zip
        book.close()
        raise DataError("core.tabular.not_xlsx", path=path.name) from None
    while header and header[-1] == "":
        header.pop()

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        line = 1
        try:
            for line, values in enumerate(it, start=2):
                values = list(values[: len(header)]) + [None] * (len(header) - len(values))
                if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                    continue
                if any(isinstance(v, str) and len(v) > MAX_FIELD_CHARS for v in values):
                    raise DataError("core.tabular_limits.bad_csv", path=path.name, line=line)
                cells = zip(header, values, strict=True)
                yield line, {h: ("" if v is None else v) for h, v in cells}
        except DataError:
            raise
        except Exception:  # openpyxl raises many kinds for a damaged sheet
            raise DataError(
                "core.tabular_limits.bad_xlsx_row", path=path.name, line=line + 1
            ) from None
        finally:
            book.close()

    return Table(path, header, rows(), "xlsx")


def require_columns(table: Table, required: Iterable[str]) -> None:
    """Raise a :class:`DataError` naming every required column the header lacks."""
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DataError(
            "core.tabular.missing_columns",
            problems=[Problem(1, c, "core.tabular.missing_column") for c in missing],
            path=table.path.name,
        )


def width_problem(line: int, row: dict[str, Any], expected: int) -> Problem | None:
    """The problem for a CSV row with the wrong number of cells, if it is one."""
    if "__width__" in row:
        return Problem(
            line, None, "core.tabular.bad_width", {"got": row["__width__"], "expected": expected}
        )
    return None


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file."""
    atomic_write(path, lambda fh: fh.write(data), mode)


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[BinaryIO], Any], mode: int = 0o644
) -> None:
    """Let ``write`` fill a temporary file, then put it in place of ``path`` atomically.

    For writers that stream (polars' ``write_csv``), so a large file never has to
    be held in memory as one bytes object. Only a regular file (or a new one) is
    replaced by a rename. A device or FIFO (``/dev/null``, a pipe) is written to
    directly: renaming over it would replace the device itself with a plain file,
    and run as root that breaks the system.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        if path.is_dir():
            raise DataError("core.output.is_dir", path=str(path))
        with open(path, "wb") as fh:
            write(fh)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_output(out: str | os.PathLike[str], data: bytes) -> None:
    """Write a command's ``--out``: ``-`` means standard output, anything else
    goes through :func:`atomic_write_bytes`."""
    if str(out) == "-":
        stream = getattr(sys.stdout, "buffer", None)
        if stream is not None:
            stream.write(data)
            stream.flush()
        else:  # a text-only stdout (captured in tests): bytes as UTF-8 text
            sys.stdout.write(data.decode("utf-8-sig", errors="replace"))
        return
    atomic_write_bytes(out, data)


# OWASP "CSV Injection": a cell starting with one of these is read by Excel,
# LibreOffice and Google Sheets as a formula (or, for tab/CR, hides one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number such as "-3" or "+1.5e3" is not a formula: spreadsheets read it as
# the number, so it is left alone and numeric exports stay numeric.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(value: Any) -> Any:
    """A cell value that no spreadsheet will run as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading
    apostrophe (OWASP's CSV-injection guidance), which spreadsheets show as text.
    Numbers, dates and text that is a plain number come back unchanged. Every CSV
    or .xlsx kumin writes passes its cells through here; imports keep the raw text.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def neutralise_frame(frame: Any) -> Any:
    """:func:`neutralise_cell` on every text column of a polars frame, vectorised,
    for writers that stream a frame to CSV without a Python call per cell."""
    import polars as pl

    starts = "^[" + "".join(re.escape(c) for c in FORMULA_STARTS) + "]"
    return frame.with_columns(
        pl.when(
            pl.col(name).str.contains(starts)
            & ~pl.col(name).str.contains("^" + _PLAIN_NUMBER.pattern + "$")
        )
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def csv_bytes(
    header: Sequence[str], rows: Iterable[Sequence[Any]], encoding: str = "utf-8-sig"
) -> bytes:
    """Render a CSV as Excel opens it: UTF-8 with BOM (default) or CP932, CRLF lines.

    Every cell goes through :func:`neutralise_cell`, so no cell is a live formula.
    A value CP932 cannot hold raises a :class:`DataError` rather than being
    silently replaced.
    """
    if encoding not in ("utf-8-sig", "utf-8", "cp932"):
        raise DataError("core.tabular.bad_encoding", encoding=encoding)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([neutralise_cell(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else neutralise_cell(v) for v in row])
    text = buf.getvalue()
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise DataError(
            "core.tabular.unencodable", encoding=encoding, char=exc.object[exc.start]
        ) from None


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """An .xlsx workbook of one sheet (header row, then ``rows``); ``None`` is an empty cell.

    A sheet holds at most 1,048,576 rows: more is a :class:`DataError`, not a cut.
    """
    return xlsx_book([("Sheet", header, rows)])


def xlsx_book(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """An .xlsx workbook of several sheets ``(title, header, rows)``, every cell
    through :func:`neutralise_cell`; a header row is frozen and filterable."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title=str(title)[:31])
        sheet.freeze_panes = "A2"
        sheet.append([neutralise_cell(h) for h in header])
        for n, row in enumerate(rows, start=2):
            if n > 1_048_576:
                raise DataError("core.tabular.write.xlsx_too_long", rows=n - 1)
            sheet.append([neutralise_cell(v) for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
