"""``kumin epi nowcast --triangle FILE``: no database, corrections and strata, quantiles,
sample paths, and errors named by line and column."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import Cli

from kumin.core.config import Settings
from kumin.epi.delays import DelayDistribution
from kumin.epi.nowcast import Nowcaster

START = np.datetime64("2022-01-01")
DAYS, MAX_DELAY = 70, 10
PMF = DelayDistribution.gamma(2.0, 1.5).pmf(MAX_DELAY)


@pytest.fixture
def anyone(tmp_path, monkeypatch) -> Cli:
    """A CLI whose database does not exist: nobody is signed in, nothing initialised."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'missing' / 'none.db'}",
        key_file=tmp_path / "none.key",
    )
    return Cli(settings, tmp_path / "home", monkeypatch)


def simulate(seed: int, level: float) -> tuple[list[tuple[str, str, int]], np.ndarray]:
    """Rows (reference, report, count) as of the last day, and the final counts."""
    rng = np.random.default_rng(seed)
    lam = level * np.exp(0.02 * np.arange(DAYS))
    cells = rng.poisson(lam[:, None] * PMF[None, :] / PMF.sum())
    rows = []
    for t in range(DAYS):
        for d in range(MAX_DELAY + 1):
            if t + d < DAYS and cells[t, d]:
                rows.append((str(START + t), str(START + t + d), int(cells[t, d])))
    return rows, cells.sum(axis=1)


def _write(path: Path, rows, header=("reference_date", "report_date", "count")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_strata_and_corrections(anyone, tmp_path):
    north, final_n = simulate(1, 80.0)
    south, final_s = simulate(2, 30.0)
    # a correction: 12 more cases of the day 6 days back reported a day late, and on
    # delay 4, instead of its own reports, 5 cases withdrawn (a negative count)
    day = str(START + DAYS - 6)
    cells = {(ref, rep): c for ref, rep, c in north}
    one, four = str(START + DAYS - 5), str(START + DAYS - 2)
    cells[(day, one)] = cells.get((day, one), 0) + 12
    dropped = cells.get((day, four), 0)
    cells[(day, four)] = -5
    north = [(ref, rep, c) for (ref, rep), c in cells.items()]
    rows = [("north", *r) for r in north] + [("south", *r) for r in south]
    path = _write(
        tmp_path / "tri.csv", rows, header=("stratum", "reference_date", "report_date", "count")
    )
    r = anyone("epi", "nowcast", "--triangle", str(path), "--max-delay", str(MAX_DELAY),
               "--format", "csv")  # fmt: skip
    assert r.exit_code == 0, r.output
    out = _csv(r.stdout)
    assert list(out[0]) == [
        "stratum", "reference_date", "observed", "mean", "median", "q0.025", "q0.05", "q0.1",
        "q0.25", "q0.5", "q0.75", "q0.9", "q0.95", "q0.975", "reported_fraction", "reliable",
    ]  # fmt: skip
    assert {x["stratum"] for x in out} == {"north", "south"}
    # the reference dates still within max_delay days of the last report date
    assert len(out) == 2 * MAX_DELAY
    assert out[-1]["reference_date"] == str(START + DAYS - 1)
    corrected = next(x for x in out if x["stratum"] == "north" and x["reference_date"] == day)
    reported = sum(c for ref, _, c in north if ref == day)  # 12 and -5 included
    assert int(corrected["observed"]) == reported
    hits = 0
    for x in out:
        qs = [float(x[f"q{q}"]) for q in ("0.025", "0.25", "0.5", "0.75", "0.975")]
        assert qs == sorted(qs) and float(x["q0.025"]) >= int(x["observed"])
        final = final_n if x["stratum"] == "north" else final_s
        t = int((np.datetime64(x["reference_date"]) - START).astype(int))
        truth = final[t] + (12 - 5 - dropped if x["reference_date"] == day else 0)
        hits += float(x["q0.05"]) <= truth <= float(x["q0.95"])
    assert hits >= 0.75 * len(out)

    r = anyone("epi", "nowcast", "--triangle", str(path), "--max-delay", str(MAX_DELAY),
               "--format", "json")  # fmt: skip
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert len(data) == 2 * MAX_DELAY and isinstance(data[0]["reliable"], bool)


def test_sample_paths_score_any_aggregate(anyone, tmp_path):
    rows, final = simulate(3, 60.0)
    path = _write(tmp_path / "tri.csv", rows)
    r = anyone("epi", "nowcast", "--triangle", str(path), "--max-delay", str(MAX_DELAY),
               "--samples", "200")  # fmt: skip
    assert r.exit_code == 0, r.output
    out = _csv(r.stdout)
    assert list(out[0]) == ["date", "sample", "count"]
    assert len(out) == 200 * MAX_DELAY
    draws = np.zeros((200, MAX_DELAY))
    dates = sorted({x["date"] for x in out})
    for x in out:
        draws[int(x["sample"]) - 1, dates.index(x["date"])] = int(x["count"])
    week = draws[:, -7:].sum(axis=1)  # a 7-day sum, scored from the paths
    truth = final[-7:].sum()
    lo, hi = np.quantile(week, [0.025, 0.975])
    assert lo <= truth <= hi
    observed = sum(c for ref, _, c in rows if ref >= dates[-7])
    assert week.min() >= observed


def test_reports_after_max_delay_are_modelled(tmp_path):
    # 5% of the cases come 15–20 days late: with late="model" the nowcast adds them
    rng = np.random.default_rng(4)
    ref, rep, cnt = [], [], []
    for t in range(120):
        for d in range(MAX_DELAY + 1):
            ref.append(t), rep.append(t + d), cnt.append(rng.poisson(95 * PMF[d] / PMF.sum()))
        ref.append(t), rep.append(t + 15 + t % 6), cnt.append(rng.poisson(5))
    ref, rep, cnt = np.array(ref), np.array(rep), np.array(cnt)
    seen = rep <= 119
    kw = {"max_delay": MAX_DELAY, "n_draws": 300, "random_state": 0}
    late = Nowcaster(late="model", **kw).fit_triangle(ref[seen], rep[seen], cnt[seen])
    plain = Nowcaster(**kw).fit_triangle(ref[seen], rep[seen], cnt[seen])
    assert 0.03 < late.late_ratio_ < 0.08
    assert plain.n_beyond_max_delay_ > 0
    # the expected final count (95 timely + 5 late a day), not one draw of it: the ten
    # days' realised mean differs from it by ±3, as much as the late cases add
    expected = 100.0
    assert np.mean(late.median_[-10:]) > np.mean(plain.median_[-10:])
    assert abs(np.mean(late.median_[-10:]) - expected) < abs(
        np.mean(plain.median_[-10:]) - expected
    )


def test_bad_triangle_is_refused_by_line_and_column(anyone, tmp_path):
    path = _write(
        tmp_path / "bad.csv",
        [("2022-01-01", "2022-01-02", "3"), ("2022-01-02", "2022-01-01", "1"),
         ("2022-01-0x", "2022-01-03", "2"), ("2022-01-03", "2022-01-04", "2.5"),
         ("2022-01-01", "2022-01-02", "4")],
        header=("reference_date", "report_date", "count", "comment")[:3],
    )  # fmt: skip
    r = anyone("epi", "nowcast", "--triangle", str(path), "--max-delay", "5")
    assert r.exit_code == 1
    assert r.stdout == ""
    err = r.stderr
    assert "bad.csv" in err and "Traceback" not in err
    assert "line 3" in err  # report before reference
    assert "line 4" in err and "2022-01-0x" in err
    assert "line 5" in err and "2.5" in err
    assert "line 6" in err and "line 2" in err  # a repeated cell

    odd = _write(tmp_path / "odd.csv", [("2022-01-01", "2022-01-01", "1", "x")],
                 header=("reference_date", "report_date", "count", "region"))  # fmt: skip
    r = anyone("epi", "nowcast", "--triangle", str(odd))
    assert r.exit_code == 1 and "region" in r.stderr

    r = anyone("epi", "nowcast", "--samples", "10")
    assert r.exit_code == 1 and "--triangle" in r.stderr

    r = anyone("epi", "nowcast", "--triangle", str(odd), "--from", "2022-01-01")
    assert r.exit_code == 1 and "--from" in r.stderr


def test_a_file_written_as_an_office_writes_it(anyone, tmp_path):
    # Japanese headers, CP932, era and slash dates, full-width digits: read as the
    # ISO file with the same cells, to the same nowcast
    from kumin.core.cells import to_era

    rows, _ = simulate(5, 40.0)
    plain = _write(tmp_path / "plain.csv", rows)
    office = tmp_path / "office.csv"
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    with office.open("w", newline="", encoding="cp932") as fh:
        w = csv.writer(fh)
        w.writerow(("発症日", "報告日", "件数"))
        for ref, rep, count in rows:
            era = to_era(np.datetime64(ref).item())
            w.writerow((era, rep.replace("-", "/"), str(count).translate(full_width)))
    args = ("epi", "nowcast", "--max-delay", str(MAX_DELAY), "--format", "csv")
    a = anyone(*args, "--triangle", str(plain))
    b = anyone(*args, "--triangle", str(office))
    assert a.exit_code == 0 and b.exit_code == 0, b.stderr
    assert _csv(a.stdout) == _csv(b.stdout)
