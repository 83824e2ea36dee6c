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
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from kumin.errors import DataError, Problem

ENCODINGS = ("auto", "utf-8", "cp932")


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
    """Open a CSV or .xlsx file and return its header and a lazy row iterator."""
    path = Path(path)
    if not path.is_file():
        raise DataError("core.tabular.no_file", path=str(path))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    return _read_csv(path, _python_encoding(path, encoding))


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
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    try:
        header = _clean_header(next(it))
    except StopIteration:
        book.close()
        raise DataError("core.tabular.empty", path=path.name) from None
    while header and header[-1] == "":
        header.pop()

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for line, values in enumerate(it, start=2):
                values = list(values[: len(header)]) + [None] * (len(header) - len(values))
                if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                    continue
                cells = zip(header, values, strict=True)
                yield line, {h: ("" if v is None else v) for h, v in cells}
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
    be held in memory as one bytes object.
    """
    path = Path(path)
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


def csv_bytes(
    header: Sequence[str], rows: Iterable[Sequence[Any]], encoding: str = "utf-8-sig"
) -> bytes:
    """Render a CSV as Excel opens it: UTF-8 with BOM (default) or CP932, CRLF lines.

    A value CP932 cannot hold raises a :class:`DataError` rather than being
    silently replaced.
    """
    if encoding not in ("utf-8-sig", "utf-8", "cp932"):
        raise DataError("core.tabular.bad_encoding", encoding=encoding)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
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
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(header))
    for n, row in enumerate(rows, start=2):
        if n > 1_048_576:
            raise DataError("core.tabular.write.xlsx_too_long", rows=n - 1)
        sheet.append(list(row))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
