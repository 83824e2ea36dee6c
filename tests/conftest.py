"""Fixtures shared by the whole suite.

``shared_data`` gives ../shared/data (real public data beside the clone) or skips
with a clear message where it is absent, as on a user's fresh clone.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    explicit = os.environ.get("KUMIN_SHARED_DATA")
    path = Path(explicit) if explicit else REPO_ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data (real public data) is not beside this clone")
    return path
