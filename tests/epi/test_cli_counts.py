"""``kumin epi rt --counts FILE``: no database, no sign-in, exact output columns,
the estimator's values, and errors named by line."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import Cli

from kumin.core.config import Settings
from kumin.epi.rt import RtEstimator

START = np.datetime64("2021-06-01")


@pytest.fixture
def anyone(tmp_path, monkeypatch) -> Cli:
    """A CLI whose database does not exist: nobody is signed in, nothing initialised."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'missing' / 'none.db'}",
        key_file=tmp_path / "none.key",
    )
    return Cli(settings, tmp_path / "home", monkeypatch)


def _series(seed: int, n: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.poisson(20 * np.exp(0.03 * np.arange(n)))


def _write(path: Path, rows: list[tuple], header=("date", "count")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def _close(text: str, value: float) -> bool:
    # the CLI writes single precision (README "Speed")
    return math.isclose(float(text), float(value), rel_tol=2.4e-7)


def test_counts_file_gives_the_estimators_values(anyone, tmp_path):
    counts = _series(1)
    days = START + np.arange(counts.size)
    path = _write(tmp_path / "c.csv", [(str(d), int(c)) for d, c in zip(days, counts, strict=True)])
    r = anyone("epi", "rt", "--counts", str(path), "--format", "csv")
    assert r.exit_code == 0, r.output
    assert (
        r.stdout.lstrip("\ufeff").splitlines()[0] == "region,date,r_mean,r_median,r_lower,r_upper"
    )
    rows = _read_csv(r.stdout)
    est = RtEstimator().fit(counts)
    assert len(rows) == est.mean_.size == counts.size - 7
    for row, end, mean, med, lo, hi in zip(
        rows, est.t_end_, est.mean_, est.median_, est.lower_, est.upper_, strict=True
    ):
        assert row["region"] == ""
        assert row["date"] == str(days[end])  # the window's last day
        assert _close(row["r_mean"], mean) and _close(row["r_median"], med)
        assert _close(row["r_lower"], lo) and _close(row["r_upper"], hi)


def test_regions_options_and_unsorted_rows(anyone, tmp_path):
    a, b = _series(2, 30), _series(3, 30)
    days = START + np.arange(30)
    rows = [("north", str(d), int(c)) for d, c in zip(days, a, strict=True)]
    rows += [("south", str(d), int(c)) for d, c in zip(days, b, strict=True)]
    rows.reverse()  # order in the file does not matter
    path = _write(tmp_path / "r.csv", rows, header=("region", "date", "count"))
    r = anyone(
        "epi", "rt", "--counts", str(path), "--method", "cori", "--si-mean", "6.5",
        "--si-sd", "4", "--window", "5", "--format", "csv",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    out = _read_csv(r.stdout)
    est = RtEstimator(window=5, si_mean=6.5, si_sd=4).fit(np.vstack([a, b]))
    expected = est.to_frame(days, ["north", "south"])
    assert [o["region"] for o in out] == expected["region"].to_list()
    assert [o["date"] for o in out] == [str(d) for d in expected["date"].to_list()]
    got = [float(o["r_median"]) if o["r_median"] else float("nan") for o in out]
    np.testing.assert_allclose(
        got, expected["r_median"].fill_null(float("nan")), rtol=2.4e-7
    )  # single precision


def test_json_and_out_file(anyone, tmp_path):
    counts = _series(4, 20)
    days = START + np.arange(20)
    path = _write(tmp_path / "c.csv", [(str(d), int(c)) for d, c in zip(days, counts, strict=True)])
    target = tmp_path / "rt.json"
    r = anyone("epi", "rt", "--counts", str(path), "--format", "json", "--out", str(target))
    assert r.exit_code == 0, r.output
    import json

    body = json.loads(target.read_text("utf-8"))
    assert list(body[0]) == ["region", "date", "r_mean", "r_median", "r_lower", "r_upper"]
    assert body[0]["region"] is None and body[0]["date"] == str(days[7])


def test_bad_counts_file_is_refused_by_line(anyone, tmp_path):
    path = _write(
        tmp_path / "bad.csv",
        [("2021-06-01", "3"), ("2021-06-02", "x"), ("2021-06-03", "-1"), ("06/04", "2"),
         ("2021-06-03", "4"), ("2021-06-07", "5")],
    )  # fmt: skip
    r = anyone("epi", "rt", "--counts", str(path), "--format", "csv")
    assert r.exit_code == 1
    assert r.stdout == ""
    err = r.stderr
    assert "bad.csv" in err
    assert "line 3" in err and "'x'" in err
    assert "line 4" in err and "'-1'" in err
    assert "line 5" in err and "06/04" in err
    assert "line 7" in err and "2021-06-07" in err  # gap after 2021-06-03


def test_missing_column_duplicates_and_parameters(anyone, tmp_path):
    path = _write(tmp_path / "nocount.csv", [("2021-06-01", 1)], header=("date", "cases"))
    r = anyone("epi", "rt", "--counts", str(path))
    assert r.exit_code == 1 and "count" in r.stderr
    dup = _write(tmp_path / "dup.csv", [("2021-06-01", 1), ("2021-06-01", 2)])
    r = anyone("epi", "rt", "--counts", str(dup))
    assert r.exit_code == 1 and "line 3" in r.stderr and "line 2" in r.stderr
    ok = _write(tmp_path / "ok.csv", [(str(START + i), 5) for i in range(20)])
    r = anyone("epi", "rt", "--counts", str(ok), "--si-mean", "1")
    assert r.exit_code == 1 and "si_mean" in r.stderr
    r = anyone("epi", "rt", "--counts", str(ok), "--window", "0")
    assert r.exit_code == 1 and "'window'" in r.stderr
    r = anyone("epi", "rt", "--counts", str(ok), "--method", "infection")
    assert r.exit_code == 1 and "'method'" in r.stderr
    short = _write(tmp_path / "short.csv", [(str(START + i), 5) for i in range(5)])
    r = anyone("epi", "rt", "--counts", str(short))
    assert r.exit_code == 1 and "short" in r.stderr.lower()


def test_japanese_messages_and_cp932_file(anyone, tmp_path):
    path = tmp_path / "cp932.csv"
    text = "region,date,count\r\n" + "".join(f"世田谷,{START + i},{i + 3}\r\n" for i in range(12))
    path.write_bytes(text.encode("cp932"))
    r = anyone("epi", "rt", "--counts", str(path), "--format", "csv")
    assert r.exit_code == 0, r.output
    assert _read_csv(r.stdout)[0]["region"] == "世田谷"
    bad = _write(tmp_path / "bad.csv", [("2021-06-01", "x")])
    r = anyone("epi", "rt", "--counts", str(bad), env={"KUMIN_LANG": "ja"})
    assert r.exit_code == 1
    assert "件数ファイル bad.csv" in r.stderr and "2行目" in r.stderr
