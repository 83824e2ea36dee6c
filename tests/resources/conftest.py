"""Fixtures for the resources storage tests: small synthetic files on disk and a
context acting as the epidemiologist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from kumin.core.tabular import atomic_write_bytes
from kumin.synth.resources import call_centre_days, frame_csv_bytes, service_counts

# A short stretch of the synthetic ward (spring 2020) keeps the storage tests fast.
CALLS_START, CALLS_END = dt.date(2020, 3, 1), dt.date(2020, 6, 30)
SERVICES = ("bcg", "tb_contact_examinations", "dot_completions")


@pytest.fixture
def calls_frame() -> pl.DataFrame:
    days = call_centre_days(seed=7)
    return days.filter(pl.col("date").is_between(CALLS_START, CALLS_END))


@pytest.fixture
def calls_csv(tmp_path, calls_frame) -> Path:
    """Daily records of the ward's centre, March–June 2020 (122 days)."""
    path = tmp_path / "call_centre_daily.csv"
    atomic_write_bytes(path, frame_csv_bytes(calls_frame))
    return path


@pytest.fixture
def counts_frame() -> pl.DataFrame:
    counts = service_counts(seed=3)
    return counts.filter(
        pl.col("service").is_in(SERVICES) & (pl.col("month") <= dt.date(2021, 6, 1))
    )


@pytest.fixture
def counts_csv(tmp_path, counts_frame) -> Path:
    """Monthly counts of three services, 2017-01 to 2021-06, with the spring-2020 dip."""
    path = tmp_path / "monthly_service_counts.csv"
    atomic_write_bytes(path, frame_csv_bytes(counts_frame, ("month",)))
    return path


@pytest.fixture
def epi_ctx(users) -> Iterator:
    """A context acting as the epidemiologist on ``fresh_db`` (commits at the end)."""
    from tests.conftest import actor_for

    from kumin.core.context import context

    with context(users.settings, actor_for(users, "epidemiologist")) as ctx:
        yield ctx
