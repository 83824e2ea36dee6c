"""Bulk reads and writes between the card tables and polars frames.

Hundreds of thousands of rows go through the database driver directly: COPY on
PostgreSQL, ``executemany`` on SQLite, in the caller's transaction. Reading uses
the same paths back (COPY TO / one cursor), so the figures of a fiscal year are
computed from the stored records in a few seconds.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import polars as pl
from sqlalchemy.orm import Session

from kumin.cards.records import SCHEMAS, CardRecords

BATCH = 50_000

# table -> (frame name, columns) for the frames of kumin.cards.records
RECORD_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "cards_cards": ("cards", tuple(SCHEMAS["cards"])),
    "cards_events": ("card_events", tuple(SCHEMAS["card_events"])),
    "cards_certificates": ("certificates", tuple(SCHEMAS["certificates"])),
    "cards_juki_transactions": ("juki_transactions", tuple(SCHEMAS["juki_transactions"])),
    "cards_inquiries": ("inquiries", tuple(SCHEMAS["inquiries"])),
    "cards_population": ("population", tuple(SCHEMAS["population"])),
}


def _quoted(cols: Sequence[str]) -> str:
    # "window" and "date" are SQL keywords; quoting every name keeps both backends happy
    return ", ".join(f'"{c}"' for c in cols)


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _dbapi(session: Session):
    return session.connection().connection.driver_connection


def bulk_insert(
    session: Session,
    table: str,
    frame: pl.DataFrame,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert every row of ``frame`` (its columns named as the table's) into ``table``.

    ``progress(k)`` is called after each batch of ``k`` rows.
    """
    if frame.is_empty():
        return 0
    cols = frame.columns
    conn = _dbapi(session)
    if dialect(session) == "postgresql":
        col_list = _quoted(cols)
        with conn.cursor() as cur:
            for start in range(0, frame.height, BATCH):
                part = frame.slice(start, BATCH)
                data = part.write_csv(include_header=False, null_value="\\N")
                sql = f"COPY {table} ({col_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
                with cur.copy(sql) as copy:
                    copy.write(data)
                if progress:
                    progress(part.height)
        return frame.height
    # SQLite stores dates as ISO text (as SQLAlchemy's Date type does)
    text = frame.with_columns(
        pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date
    )
    sql = f"INSERT INTO {table} ({_quoted(cols)}) VALUES ({', '.join('?' * len(cols))})"
    cur = conn.cursor()
    try:
        for start in range(0, text.height, BATCH):
            part = text.slice(start, BATCH)
            cur.executemany(sql, part.rows())
            if progress:
                progress(part.height)
    finally:
        cur.close()
    return frame.height


def read_frame(
    session: Session, sql: str, schema: dict[str, pl.DataType], params: Sequence = ()
) -> pl.DataFrame:
    """The rows of ``sql`` (selecting exactly ``schema``'s columns, in order) as a frame.

    ``params`` are positional; write them ``?`` (they are adapted per backend).
    """
    conn = _dbapi(session)
    if dialect(session) == "postgresql":
        if params:
            sql = sql.replace("?", "%s")
            with conn.cursor() as cur:
                sql = cur.mogrify(sql, params)
        with conn.cursor() as cur:
            buf = io.BytesIO()
            with cur.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
                for chunk in copy:
                    buf.write(chunk)
        if not buf.getvalue():
            return pl.DataFrame(schema=schema)
        buf.seek(0)
        frame = pl.read_csv(
            buf, schema_overrides={k: (pl.Utf8 if v == pl.Date else v) for k, v in schema.items()}
        )
    else:
        cur = conn.cursor()
        try:
            cur.execute(sql, tuple(params))
            rows = cur.fetchall()
        finally:
            cur.close()
        text_schema = {k: (pl.Utf8 if v == pl.Date else v) for k, v in schema.items()}
        frame = pl.DataFrame(rows, schema=text_schema, orient="row")
    if frame.is_empty():
        return pl.DataFrame(schema=schema)
    return frame.select(
        pl.col(c).str.to_date("%Y-%m-%d") if t == pl.Date else pl.col(c).cast(t)
        for c, t in schema.items()
    )


# the columns the yearly figures read; the others are left null by load_records(full=False)
FIGURE_COLUMNS = {
    "cards": ("card_id", "origin", "applied_on", "prepared_on", "issued_on"),
    "certificates": ("date", "cert_type"),
}


def load_records(session: Session, full: bool = True) -> CardRecords:
    """The stored card and Juki-net records as the frames of :class:`CardRecords`.

    With ``full=False`` only what :func:`kumin.cards.figures.security_figures`
    reads is loaded: the cards' step dates, and the certificates counted by date
    and type in the database and expanded back to one row per certificate (their
    card numbers left null). The figures are the same; loading takes a third.
    """
    frames = {}
    for table, (name, cols) in RECORD_TABLES.items():
        schema = dict(SCHEMAS[name])
        if full or name not in FIGURE_COLUMNS:
            frames[name] = read_frame(session, f"SELECT {_quoted(cols)} FROM {table}", schema)
            continue
        keep = FIGURE_COLUMNS[name]
        if name == "certificates":
            counts = read_frame(
                session,
                f'SELECT {_quoted(keep)}, COUNT(*) AS n FROM {table} GROUP BY "date", cert_type',
                {**{c: schema[c] for c in keep}, "n": pl.Int64},
            )
            part = counts.select(pl.col(c).repeat_by("n").explode() for c in keep)
        else:
            part = read_frame(
                session, f"SELECT {_quoted(keep)} FROM {table}", {c: schema[c] for c in keep}
            )
        frames[name] = part.with_columns(
            pl.lit(None, t).alias(c) for c, t in schema.items() if c not in keep
        ).select(list(schema))
    return CardRecords(**frames)
