"""Each centre's calls are compared with the cases of the area it serves (#13):
the Tokyo centre with Tokyo's cases, never with the ward's notifications."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from tests.conftest import actor_for

from kumin.core.context import context
from kumin.errors import DataError
from kumin.resources import service


def _write(path, header, rows):
    path.write_text(header + "\n" + "".join(f"{a},{b}\n" for a, b in rows), encoding="utf-8")
    return path


def test_a_centre_is_compared_with_its_own_cases(users, tmp_path):
    days, lag = 420, 5
    rng = np.random.default_rng(3)
    t = np.arange(days + lag)
    waves = sum(
        h * np.exp(-0.5 * ((t - c) / w) ** 2)
        for h, c, w in ((400, 90, 15), (900, 210, 20), (1500, 340, 18))
    )
    first = dt.date(2021, 1, 1)
    dates = [first + dt.timedelta(days=int(i)) for i in range(days)]
    cases = rng.poisson(20 + waves[lag:])  # cases of day d ...
    calls = rng.poisson(50 + 0.8 * waves[:days])  # ... show in the calls `lag` days later
    calls_csv = _write(tmp_path / "calls.csv", "date,calls", zip(dates, calls, strict=True))
    cases_csv = _write(tmp_path / "cases.csv", "発症日,陽性者数", zip(dates, cases, strict=True))
    with context(users.settings, actor_for(users, "epidemiologist")) as ctx:
        service.import_calls(ctx, calls_csv, "tokyo_calls", "tokyo_call_centre")
        service.import_calls(ctx, calls_csv, "tokyo_calls", "other_centre")
        service.import_centre_cases(ctx, cases_csv, "tokyo_call_centre")
    with context(users.settings, actor_for(users, "epidemiologist")) as ctx:
        summaries = {s.centre: s for s in service.calls_summary(ctx)}
    tokyo = summaries["tokyo_call_centre"]
    # calls follow cases: a negative lag, to within a day (weekly growth rates)
    assert tokyo.lead_lag is not None and abs(tokyo.lead_lag.best_lag + lag) <= 1
    assert tokyo.lead_lag.correlation > tokyo.lead_lag.threshold
    # a centre without its own series is not compared with anyone's cases
    other = summaries["other_centre"]
    assert other.lead_lag is None and other.lead_lag_note == "resources.calls.no_centre_cases"


def test_a_bad_case_file_changes_nothing(users, tmp_path):
    bad = _write(tmp_path / "bad.csv", "date,cases", [("2021-01-01", 3), ("2021-01-02", -1)])
    with (
        context(users.settings, actor_for(users, "epidemiologist")) as ctx,
        pytest.raises(DataError) as err,
    ):
        service.import_centre_cases(ctx, bad, "tokyo_call_centre")
    assert [p.line for p in err.value.problems] == [3]
    with context(users.settings, actor_for(users, "epidemiologist")) as ctx:
        assert service.centre_case_counts(ctx, "tokyo_call_centre").height == 0


@pytest.mark.realdata
def test_tokyo_centre_against_tokyo_onset_cases(users, shared_data, cli):
    tokyo = shared_data / "tokyo"
    epi = users.by_role["epidemiologist"]
    r = cli("calls", "import", str(tokyo / "tokyo_call_center_daily.csv"), "--profile", "tokyo",
            "--centre", "tokyo_call_centre", user=epi)  # fmt: skip
    assert r.exit_code == 0, r.stderr
    r = cli("calls", "cases-import", str(tokyo / "tokyo_positive_by_onset_date_snapshot_2022-01-30.csv"),
            "--centre", "tokyo_call_centre", user=epi)  # fmt: skip
    assert r.exit_code == 0, r.stderr
    with context(users.settings, actor_for(users, "epidemiologist")) as ctx:
        (summary,) = service.calls_summary(ctx, centre="tokyo_call_centre")
    print(f"\nTokyo call centre vs Tokyo onset cases: lag {summary.lead_lag.best_lag} days")
    # Tokyo's centre against Tokyo's own onset cases: calls about 12 days after onset
    assert summary.lead_lag is not None and -14 <= summary.lead_lag.best_lag <= -10
