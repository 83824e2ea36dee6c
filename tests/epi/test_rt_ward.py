"""Rt by infection date on the synthetic ward's last week is not driven by the tail (#12).

The generator clamps every result later than its last day to that day, so the counts
by onset are complete: an estimate with the nowcast must agree with the one without.
Before the hazard model and the known-onset triangle, the nowcast read the batch as
larger days and the last four medians (2.27–2.95) left the interval made without it.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from kumin.epi import service
from kumin.epi.pipeline import rt_by_infection_date
from kumin.synth.cases import synth_cases


def _rt(linelist: pl.DataFrame, nowcast: str) -> pl.DataFrame:
    # as `kumin epi rt --method infection` runs it (kumin.epi.service.analyse_rt)
    res = rt_by_infection_date(
        linelist,
        incubation=service._distribution(service.INCUBATION),
        generation_interval=service._distribution(service.GENERATION),
        imported_col="imported",
        window=7,
        random_state=0,
        nowcast=nowcast,
    )
    cols = ("date", "r_median_centred", "r_lower_centred", "r_upper_centred")
    return res.rt.select(cols).drop_nulls().tail(7)


@pytest.mark.parametrize("seed", [7, 2])
@pytest.mark.filterwarnings("ignore::kumin.epi.delays.ConvergenceWarning")
def test_last_week_lies_within_the_estimate_without_nowcast(seed):
    recs = synth_cases(seed=seed)
    linelist = pl.DataFrame(
        {"onset_date": [r.onset_date for r in recs], "report_date": [r.result_date for r in recs]},
        schema={"onset_date": pl.Date, "report_date": pl.Date},
    ).with_columns(
        pl.max_horizontal("report_date", "onset_date").alias("report_date"),
        pl.lit(False).alias("imported"),
    )
    with_nc, without = _rt(linelist, "auto"), _rt(linelist, "none")
    assert with_nc["date"].to_list() == without["date"].to_list()
    median = with_nc["r_median_centred"].to_numpy()
    lo, hi = without["r_lower_centred"].to_numpy(), without["r_upper_centred"].to_numpy()
    assert np.all((lo <= median) & (median <= hi)), (median, lo, hi)
    # the nowcast's uncertainty reaches the last days' intervals
    width = (with_nc["r_upper_centred"] - with_nc["r_lower_centred"]).to_numpy()
    width_without = (without["r_upper_centred"] - without["r_lower_centred"]).to_numpy()
    assert np.all(width[-3:] > width_without[-3:])
    assert np.all(width[-3:] > 1.1 * width_without[-3:].mean())
