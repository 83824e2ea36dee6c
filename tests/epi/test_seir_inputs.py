"""Cases and doses tables into the SEIR's arrays."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from kumin.epi.seir_inputs import cases_by_band, doses_by_band
from kumin.errors import DataError, ParameterError

D0 = dt.date(2021, 7, 1)


def test_line_list_becomes_zero_filled_daily_counts():
    frame = pl.DataFrame(
        {
            "onset_date": [D0, D0, D0 + dt.timedelta(days=4)],
            "age_band": ["10歳未満", "90代", "80-89"],
        }
    )
    dates, y = cases_by_band(frame)
    assert dates[0] == D0 and len(dates) == 5
    assert y.shape == (5, 9)
    assert y[0, 0] == 1 and y[0, 8] == 1 and y[4, 8] == 1
    assert y[1:4].sum() == 0


def test_counts_and_period():
    frame = pl.DataFrame(
        {"date": [D0, D0 + dt.timedelta(days=1)], "age_band": ["30-39", "30代"], "n": [5, 7]}
    )
    dates, y = cases_by_band(
        frame, date_column="date", count_column="n", start=D0 - dt.timedelta(days=1), end=D0
    )
    assert len(dates) == 2 and y[:, 3].tolist() == [0.0, 5.0]


def test_bad_case_tables():
    with pytest.raises(DataError):
        cases_by_band(pl.DataFrame({"onset_date": [D0]}))
    with pytest.raises(DataError):
        cases_by_band(pl.DataFrame({"onset_date": ["2021-07-01"], "age_band": ["20代"]}))
    with pytest.raises(ParameterError):
        cases_by_band(pl.DataFrame({"onset_date": [D0], "age_band": ["unknown"]}))
    with pytest.raises(DataError):
        cases_by_band(
            pl.DataFrame({"onset_date": [D0], "age_band": ["20代"], "n": [-1]}), count_column="n"
        )


def test_doses_table():
    frame = pl.DataFrame(
        {
            "date": [D0, D0, D0 + dt.timedelta(days=2), D0 + dt.timedelta(days=9)],
            "age_band": ["70代", "70代", "90+", "70代"],
            "dose": [1, 2, 3, 1],
            "count": [100, 50, 20, 999],
        }
    )
    doses = doses_by_band(frame, D0, 5)
    assert doses.shape == (3, 5, 9)
    assert doses[0, 0, 7] == 100 and doses[1, 0, 7] == 50 and doses[2, 2, 8] == 20
    assert doses.sum() == 170  # the row after the period is ignored
    with pytest.raises(DataError):
        doses_by_band(frame.with_columns(pl.lit(4).alias("dose")), D0, 5)
    with pytest.raises(DataError):
        doses_by_band(frame.drop("count"), D0, 5)
