"""The synthetic ward's call-centre days and service counts."""

from __future__ import annotations

import datetime as dt
import inspect

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import kumin.synth.resources as synth
from kumin.resources.calls import read_call_records
from kumin.resources.continuity import read_service_counts
from kumin.synth.resources import (
    call_centre_days,
    service_counts,
    write_call_centre_csv,
    write_service_counts_csv,
)


def test_call_days_are_deterministic_and_complete():
    days = call_centre_days(seed=5)
    assert_frame_equal(days, call_centre_days(seed=5))
    assert not days.equals(call_centre_days(seed=6))
    assert days.height == 731
    assert days["date"].min() == dt.date(2020, 2, 1) and days["date"].max() == dt.date(2022, 1, 31)
    assert (days["calls_answered"] + days["calls_abandoned"] == days["calls_received"]).all()
    assert (days["staff_regular"] >= 2).all() and (days["staff_external"] >= 0).all()
    assert days["staff_external"].max() > 5  # the ward hired for the waves


def test_calls_follow_tokyo_waves():
    days = call_centre_days(seed=0)
    monthly = days.group_by_dynamic("date", every="1mo").agg(pl.col("calls_received").mean())
    by_month = dict(zip(monthly["date"], monthly["calls_received"], strict=True))
    # Waves: spring 2020, winter 2020-21, summer 2021, Omicron in January 2022.
    assert by_month[dt.date(2020, 3, 1)] > 2 * by_month[dt.date(2020, 6, 1)]
    assert by_month[dt.date(2021, 1, 1)] > 2 * by_month[dt.date(2020, 10, 1)]
    assert by_month[dt.date(2021, 8, 1)] > 3 * by_month[dt.date(2021, 6, 1)]
    assert by_month[dt.date(2022, 1, 1)] > by_month[dt.date(2021, 8, 1)]


def test_service_counts_shape_and_disruption():
    counts = service_counts(seed=2)
    assert_frame_equal(counts, service_counts(seed=2))
    assert counts.height == 8 * 72
    assert set(counts["service"]) == {
        "tb_new_registrations",
        "tb_contact_examinations",
        "dot_completions",
        "bcg",
        "mr",
        "dpt_ipv",
        "hpv",
        "japanese_encephalitis",
    }
    contact = counts.filter(pl.col("service") == "tb_contact_examinations")
    spring = contact.filter(pl.col("month").is_in([dt.date(2020, 4, 1), dt.date(2020, 5, 1)]))
    before = contact.filter(pl.col("month").dt.year() == 2019)
    assert spring["count"].mean() < 0.6 * before["count"].mean()


def test_csv_files_round_trip_through_the_importers(tmp_path):
    days = write_call_centre_csv(tmp_path / "calls.csv", seed=1)
    assert (tmp_path / "calls.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    back = read_call_records(tmp_path / "calls.csv")
    assert_frame_equal(back, days, check_dtypes=False)
    counts = write_service_counts_csv(tmp_path / "services.csv", seed=1)
    assert "2020-04" in (tmp_path / "services.csv").read_text("utf-8-sig")
    assert_frame_equal(
        read_service_counts(tmp_path / "services.csv"), counts.sort("service", "month")
    )


def test_synth_never_reads_shared_data():
    source = inspect.getsource(synth)
    assert "read_csv" not in source and "open(" not in source
    assert "shared/data" in source  # only in comments citing where the figures came from


@pytest.mark.realdata
def test_embedded_weekly_cases_match_the_source_file(shared_data):
    cases = pl.read_csv(
        shared_data / "tokyo" / "tokyo_positive_by_onset_date_snapshot_2022-01-30.csv",
        try_parse_dates=True,
    )
    weekly = (
        cases.sort("onset_date")
        .group_by_dynamic("onset_date", every="1w")
        .agg(pl.col("cases").sum())
    )
    n = len(synth.TOKYO_WEEKLY_ONSET_CASES)
    assert weekly["onset_date"][0] == synth.TOKYO_FIRST_WEEK
    assert tuple(weekly["cases"].to_list()[:n]) == synth.TOKYO_WEEKLY_ONSET_CASES
