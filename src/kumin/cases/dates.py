"""Moved to :mod:`kumin.core.cells`, the one cell-parser module of every import."""

from kumin.core.cells import (  # noqa: F401
    DEFAULT_MISSING,
    ERAS,
    Era,
    InvalidDate,
    _parse_text_cached,
    age_on,
    normalise_text,
    parse_date,
    to_era,
)
