"""Counts files read and written by polars: the vectorised path, its fall-backs, .xlsx,
imported cases and the period options (``kumin.epi.counts``)."""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import openpyxl
import polars as pl
import pytest
from tests.epi.test_cli_counts import START, _read_csv, _series, _write, anyone  # noqa: F401

from kumin.epi.counts import read_counts, rt_from_counts
from kumin.epi.rt import RtEstimator
from kumin.errors import DataError


def _rows(counts, regions=("a", "b")):
    days = START + np.arange(counts.shape[1])
    return [
        (r, str(d), int(c))
        for r, row in zip(regions, counts, strict=True)
        for d, c in zip(days, row, strict=True)
    ]


def test_clean_file_is_read_into_one_matrix(tmp_path):
    counts = np.vstack([_series(1, 30), _series(2, 30), _series(3, 30)])
    path = _write(
        tmp_path / "c.csv", _rows(counts, ("c", "a", "b"))[::-1], ("region", "date", "count")
    )
    (block,) = read_counts(path)
    assert block.regions == ["a", "b", "c"]
    np.testing.assert_array_equal(block.local, counts[[1, 2, 0]])
    assert block.imported is None
    assert block.dates[0] == START and block.dates.size == 30


def test_unusual_but_valid_cells_take_the_text_path_with_the_same_result(tmp_path):
    counts = _series(4, 25)
    plain = _write(tmp_path / "plain.csv", [(str(START + i), int(c)) for i, c in enumerate(counts)])
    # thousands separators, slashes, one-digit months, "3.0", spaces and a blank line
    lines = ["date,count"]
    for i, c in enumerate(counts):
        d = (START + i).astype(dt.date)
        date = f"{d.year}/{d.month}/{d.day}" if i % 2 else str(d)
        value = f'"{int(c):,}"' if i % 3 == 0 else (f"{int(c)}.0" if i % 3 == 1 else f" {int(c)} ")
        lines.append(f"{date},{value}")
    lines.insert(5, "")
    odd = tmp_path / "odd.csv"
    odd.write_text("\n".join(lines) + "\n", encoding="utf-8")
    a, b = rt_from_counts(plain), rt_from_counts(odd)
    assert a.equals(b)


def test_xlsx_in_and_out(anyone, tmp_path):  # noqa: F811
    counts = _series(5, 20)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["date", "count"])
    for i, c in enumerate(counts):
        day = (START + i).astype(dt.date)
        sheet.append([day if i % 2 else str(day), int(c)])  # date cells and text cells
    src = tmp_path / "in.xlsx"
    book.save(src)
    out = tmp_path / "out.xlsx"
    r = anyone("epi", "rt", "--counts", str(src), "--out", str(out))
    assert r.exit_code == 0, r.output
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == ("region", "date", "r_mean", "r_median", "r_lower", "r_upper")
    est = RtEstimator().fit(counts)
    assert len(rows) - 1 == est.mean_.size
    assert rows[1][1] == str(START + 7)
    assert rows[1][2] == pytest.approx(est.mean_[0], rel=2.4e-7)  # single precision


def test_local_and_imported_columns(anyone, tmp_path):  # noqa: F811
    local, imported = _series(6, 30), np.random.default_rng(0).poisson(3, 30)
    path = _write(
        tmp_path / "li.csv",
        [
            (str(START + i), int(a), int(b))
            for i, (a, b) in enumerate(zip(local, imported, strict=True))
        ],
        ("date", "local", "imported"),
    )
    r = anyone("epi", "rt", "--counts", str(path), "--format", "json")
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    est = RtEstimator().fit(local, imported=imported)
    np.testing.assert_allclose(
        [b["r_mean"] for b in body], est.mean_, rtol=2.4e-7
    )  # single precision
    # imported cases are infectors only: counting them as local would raise R
    assert est.mean_.mean() < RtEstimator().fit(local + imported).mean_.mean()


def test_unknown_or_conflicting_columns_are_refused(anyone, tmp_path):  # noqa: F811
    path = _write(tmp_path / "u.csv", [("2021-06-01", 1, 2)], ("date", "count", "deaths"))
    r = anyone("epi", "rt", "--counts", str(path))
    assert r.exit_code == 1 and "'deaths'" in r.stderr
    path = _write(tmp_path / "cl.csv", [("2021-06-01", 1, 2)], ("date", "count", "imported"))
    r = anyone("epi", "rt", "--counts", str(path))
    assert r.exit_code == 1 and "'count'" in r.stderr
    bad = _write(tmp_path / "bi.csv", [("2021-06-01", 1, "x")], ("date", "local", "imported"))
    with pytest.raises(DataError) as info:
        read_counts(bad)
    assert info.value.problems[0].column == "imported"


def test_repeats_and_gaps_found_by_the_vectorised_path_are_named_by_line(tmp_path):
    rows = [("a", str(START + i), 3) for i in range(10)] + [
        ("b", str(START + i), 3) for i in range(10)
    ]
    rows[14] = ("b", str(START + 3), 3)  # b's 2021-06-05 replaced by a repeat of 06-04
    path = _write(tmp_path / "g.csv", rows, ("region", "date", "count"))
    with pytest.raises(DataError) as info:
        read_counts(path)
    lines = sorted(p.line for p in info.value.problems)
    assert lines == [16, 17]  # the repeat (line 16) and the gap it leaves before 06-06 (17)


def test_by_is_refused_and_the_period_keeps_earlier_history(anyone, tmp_path):  # noqa: F811
    counts = _series(7, 40)
    path = _write(tmp_path / "p.csv", [(str(START + i), int(c)) for i, c in enumerate(counts)])
    r = anyone("epi", "rt", "--counts", str(path), "--by", "town")
    assert r.exit_code == 1 and "--by" in r.stderr
    r = anyone(
        "epi", "rt", "--counts", str(path), "--from", "2021-06-20", "--to", "2021-06-25",
        "--format", "csv",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = _read_csv(r.stdout)
    assert [row["date"] for row in rows] == [str(START + 19 + i) for i in range(6)]
    est = RtEstimator().fit(counts)  # the whole series: windows use the days before --from
    np.testing.assert_allclose(
        [float(row["r_mean"]) for row in rows], est.mean_[12:18], rtol=2.4e-7
    )  # single precision


def test_frame_is_written_by_polars_exactly(tmp_path):
    from kumin.epi.counts import write_frame

    frame = rt_from_counts(
        _write(tmp_path / "w.csv", [(str(START + i), 10 + i) for i in range(15)])
    )
    text = write_frame(frame, "csv").decode("utf-8-sig")
    back = pl.read_csv(io.StringIO(text), try_parse_dates=True)
    assert text.startswith("region,date,") and "\r\n" in text
    # single precision: each value reads back to the same 32-bit float, in few digits
    np.testing.assert_array_equal(
        back["r_mean"].cast(pl.Float32).to_numpy(), frame["r_mean"].cast(pl.Float32).to_numpy()
    )
    digits = [len(v.split(",")[2].replace(".", "").lstrip("0")) for v in text.splitlines()[1:]]
    assert 6 <= max(digits) <= 9
    body = json.loads(write_frame(frame, "json"))
    assert body[0]["date"] == str(START + 7) and body[0]["region"] is None


# -- EpiEstim's options through the CLI (numbers from tests/epi/epiestim_snapshots.py) --------


def _flu_file(tmp_path, name="flu.csv"):
    from tests.epi import epiestim_snapshots as snap

    days = np.datetime64("2009-04-27") + np.arange(len(snap.FLU2009))
    return _write(tmp_path / name, [(str(d), c) for d, c in zip(days, snap.FLU2009, strict=True)])


def test_cli_pmf_file_and_windows_give_epiestims_example1(anyone, tmp_path):  # noqa: F811
    from tests.epi import epiestim_snapshots as snap

    si = tmp_path / "si.csv"
    si.write_text("day,p\n" + "".join(f"{i},{p}\n" for i, p in enumerate(snap.FLU2009_SI)))
    r = anyone(
        "epi", "rt", "--counts", str(_flu_file(tmp_path)), "--si-file", str(si),
        "--windows", "2009-04-28:2009-05-04,2009-05-12:2009-05-18", "--format", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert [b["date"] for b in body] == ["2009-05-04", "2009-05-18"]  # the windows' last days
    ex = snap.EXAMPLE1
    np.testing.assert_allclose(
        [b["r_mean"] for b in body], [ex["mean"][0], ex["mean"][14]], rtol=1.1e-6
    )
    np.testing.assert_allclose(
        [b["r_upper"] for b in body], [ex["q975"][0], ex["q975"][14]], rtol=1.1e-6
    )
    assert "last day" in r.stderr  # what 'date' means is said


def test_cli_local_imported_gives_epiestims_example2(anyone, tmp_path):  # noqa: F811
    from tests.epi import epiestim_snapshots as snap

    ex = snap.EXAMPLE2
    days = np.datetime64("2021-01-01") + np.arange(len(ex["local"]))
    rows = [(str(d), a, b) for d, a, b in zip(days, ex["local"], ex["imported"], strict=True)]
    path = _write(tmp_path / "li.csv", rows, ("date", "local", "imported"))
    r = anyone(
        "epi", "rt", "--counts", str(path), "--si-mean", "2.6", "--si-sd", "1.5", "--format", "json"
    )
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    # default sliding weekly windows are EpiEstim's t_start = 2:21, t_end = 8:27
    np.testing.assert_allclose([b["r_mean"] for b in body], ex["mean"], rtol=1.1e-6)
    np.testing.assert_allclose([b["r_median"] for b in body], ex["median"], rtol=1.1e-6)


def test_cli_uncertain_si_families_and_refusals(anyone, tmp_path):  # noqa: F811
    path = _flu_file(tmp_path)
    r = anyone(
        "epi", "rt", "--counts", str(path), "--si-mean", "2.6", "--si-sd", "1.5",
        "--uncertain-si", "std_mean_si=1,min_mean_si=1,max_mean_si=4.2,std_std_si=0.5,"
        "min_std_si=0.5,max_std_si=2.5,n1=200,n2=50", "--format", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)) == 32 - 7
    r = anyone("epi", "rt", "--counts", str(path), "--uncertain-si", "std_mean=x")
    assert r.exit_code == 1 and "std_mean_si" in r.stderr
    r = anyone("epi", "rt", "--counts", str(path), "--uncertain-si", "bogus=1")
    assert r.exit_code == 1 and "bogus" in r.stderr
    for family in ("lognormal", "weibull"):
        r = anyone(
            "epi", "rt", "--counts", str(path), "--si-distribution", family, "--si-mean", "2.6",
            "--si-sd", "1.5", "--format", "csv",
        )  # fmt: skip
        assert r.exit_code == 0, r.output
    r = anyone("epi", "rt", "--counts", str(path), "--si-distribution", "cauchy")
    assert r.exit_code == 1 and "si_distribution" in r.stderr
    r = anyone("epi", "rt", "--counts", str(path), "--method", "simple", "--weekly")
    assert r.exit_code == 1
    r = anyone("epi", "rt", "--counts", str(path), "--windows", "2009-04-28:")
    assert r.exit_code == 1
    r = anyone("epi", "rt", "--counts", str(path), "--windows", "2009-04-27:2009-05-03")
    assert r.exit_code == 1 and "t_start" in r.stderr  # the first day has no infectors
    r = anyone("epi", "rt", "--weekly")
    assert r.exit_code == 1 and "--counts" in r.stderr


def test_cli_weekly_counts(anyone, tmp_path):  # noqa: F811
    from tests.epi.test_epiestim_options import simulate_daily

    from kumin.epi.epiestim import estimate_r_aggregated

    weekly = simulate_daily().reshape(-1, 7).sum(1)
    weeks = np.datetime64("2021-01-04") + 7 * np.arange(weekly.size)
    rows = [(r, str(d), int(c)) for r in ("a", "b") for d, c in zip(weeks, weekly, strict=True)]
    path = _write(tmp_path / "w.csv", rows, ("region", "date", "count"))
    r = anyone("epi", "rt", "--counts", str(path), "--weekly", "--format", "json")
    assert r.exit_code == 0, r.output
    body = [b for b in json.loads(r.stdout) if b["region"] == "a"]
    res = estimate_r_aggregated(weekly, si_mean=4.8, si_sd=2.3)
    np.testing.assert_allclose(
        [b["r_mean"] for b in body], res.estimator.mean_, rtol=2.4e-7
    )  # single precision
    assert body[0]["date"] == str(weeks[0] + 13)  # the first window: days 8-14
    daily = _write(tmp_path / "d.csv", [(str(weeks[0] + i), 3) for i in range(30)])
    r = anyone("epi", "rt", "--counts", str(daily), "--weekly")
    assert r.exit_code == 1 and "line 3" in r.stderr  # rows one day apart, not seven


def test_cli_cv_note(anyone, tmp_path):  # noqa: F811
    path = _write(tmp_path / "few.csv", [(str(START + i), 1) for i in range(20)])
    r = anyone("epi", "rt", "--counts", str(path), "--format", "csv")
    assert r.exit_code == 0 and "coefficient of variation" in r.stderr
