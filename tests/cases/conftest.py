"""Fixtures for the notification-record tests: small HER-SYS exports on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from cases_samples import HERSYS_ROWS, write_hersys


@pytest.fixture
def hersys_csv(tmp_path: Path) -> Path:
    """A valid six-row HER-SYS export in CP932 with era dates."""
    return write_hersys(tmp_path / "hersys.csv", HERSYS_ROWS)
