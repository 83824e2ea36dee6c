"""Synthetic notification records: deterministic, shaped like the real thing,
and written as dirty exports the importer reads back exactly."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from kumin.cases.codes import age_band_of
from kumin.cases.dates import age_on
from kumin.cases.parse import parse_cases
from kumin.errors import ParameterError
from kumin.synth.cases import (
    END,
    REPORT_COUNT,
    TOKYO_WEEK0,
    TOKYO_WEEKLY_ONSETS,
    synth_cases,
    write_cases_csv,
    write_large_cases_csv,
)
from kumin.synth.ward import setagaya_like_ward

PERIODS = (dt.date(2020, 6, 1), dt.date(2021, 1, 1), dt.date(2021, 7, 1), dt.date(2021, 12, 1))


@pytest.fixture(scope="module")
def records():
    return synth_cases(seed=0)


def _period(day: dt.date) -> int:
    return sum(day >= p for p in PERIODS)


def test_deterministic() -> None:
    assert synth_cases(seed=5, n=300) == synth_cases(seed=5, n=300)
    assert synth_cases(seed=5, n=300) != synth_cases(seed=6, n=300)


def test_count_ids_and_range(records) -> None:
    assert len(records) == REPORT_COUNT == 31_077
    assert len({r.hersys_id for r in records}) == len(records)
    first = min(r.result_date for r in records)
    assert dt.date(2020, 1, 24) <= first <= dt.date(2020, 2, 29)
    assert max(r.result_date for r in records) == END
    assert all(r.first_visit_date <= r.specimen_date or r.specimen_date > r.result_date
               for r in records)  # fmt: skip
    assert all(r.onset_date is None or r.onset_date <= r.first_visit_date for r in records)
    assert all(r.residence == "東京都世田谷区" for r in records)


def test_curve_follows_tokyo(records) -> None:
    weeks = len(TOKYO_WEEKLY_ONSETS)
    ours = np.zeros(weeks)
    for r in records:
        ref = r.onset_date or r.specimen_date
        ours[min((ref - TOKYO_WEEK0).days // 7, weeks - 1)] += 1
    tokyo = np.array(TOKYO_WEEKLY_ONSETS, dtype=float)
    assert np.corrcoef(ours, tokyo)[0, 1] > 0.97
    # The Delta peak (August 2021) is the largest full week, as in Tokyo.
    assert int(np.argmax(ours[:-2])) == int(np.argmax(tokyo[:-2]))


def test_missing_onsets(records) -> None:
    missing = [r.onset_date is None for r in records]
    assert 0.20 <= np.mean(missing) <= 0.40
    asym = sum(r.asymptomatic is True for r in records)
    assert asym < sum(missing) and asym > 0.5 * sum(missing)
    assert all(r.symptoms is None for r in records if r.asymptomatic)
    assert all(r.symptoms for r in records if r.asymptomatic is False)


def test_delays_shorten(records) -> None:
    by_period: dict[int, list[int]] = {p: [] for p in range(5)}
    for r in records:
        if r.onset_date:
            by_period[_period(r.onset_date)].append((r.result_date - r.onset_date).days)
    means = [np.mean(by_period[p]) for p in range(5)]
    assert means == sorted(means, reverse=True)
    assert means[0] > 5 and means[4] < 4.5


def test_vaccination_follows_the_rollout(records) -> None:
    for r in records:
        on = r.onset_date or r.specimen_date
        if on <= dt.date(2021, 2, 17) or r.age_years < 12:
            assert r.vaccine_doses in (0, None)
        if on <= dt.date(2021, 12, 1):
            assert r.vaccine_doses != 3
    vaccinated_spring = [r.vaccine_doses for r in records
                         if dt.date(2021, 5, 15) <= r.result_date < dt.date(2021, 7, 1)
                         and r.vaccine_doses is not None]  # fmt: skip
    old = [r for r in records if r.age_years >= 65 and dt.date(2021, 8, 1) <= r.result_date
           and r.result_date < dt.date(2021, 12, 1) and r.vaccine_doses is not None]  # fmt: skip
    young = [r for r in records if 20 <= r.age_years < 40 and dt.date(2021, 5, 1) <= r.result_date
             and r.result_date < dt.date(2021, 6, 15) and r.vaccine_doses is not None]  # fmt: skip
    assert np.mean([r.vaccine_doses >= 1 for r in old]) > 0.3
    assert np.mean([r.vaccine_doses >= 1 for r in young]) < 0.1
    assert any(d >= 1 for d in vaccinated_spring)
    assert any(r.vaccine_doses == 3 for r in records)
    assert any(r.vaccine_doses is None for r in records)


def test_care_settings_by_period(records) -> None:
    shares = {}
    for p in range(5):
        c = Counter(r.care_setting for r in records if _period(r.result_date) == p)
        total = sum(c.values())
        shares[p] = {k: v / total for k, v in c.items()}
    assert shares[0]["hospital"] > 0.4
    assert shares[4]["home"] > 0.6
    assert shares[3]["pending"] > shares[1]["pending"]
    assert set(shares[3]) == {"home", "hotel", "hospital", "facility", "pending"}


def test_people(records) -> None:
    ward = setagaya_like_ward()
    towns = Counter(r.town for r in records)
    assert set(towns) <= set(ward.town_names) and len(towns) >= 59
    pops = np.array([ward.town(t).population for t in towns])
    assert np.corrcoef(pops, list(towns.values()))[0, 1] > 0.9
    assert all(r.address.startswith(r.town) and r.address != r.town for r in records)
    sexes = Counter(r.sex for r in records)
    assert 0.45 < sexes["male"] / len(records) < 0.6
    assert sexes["unknown"] + sexes["other"] > 0
    bands = Counter(r.age_band for r in records)
    assert bands["20-29"] == max(bands.values())
    mismatched = sum(age_band_of(age_on(r.birth_date, r.result_date)) != r.age_band
                     for r in records)  # fmt: skip
    assert mismatched < 0.002 * len(records)
    assert Counter(r.nationality for r in records)["日本"] > 0.9 * len(records)
    assert all(r.birth_date < r.result_date for r in records)


@pytest.mark.parametrize(("encoding", "every"), [("cp932", 1), ("utf-8-sig", 5)])
def test_dirty_export_reads_back_exactly(
    records, tmp_path: Path, encoding: str, every: int
) -> None:
    records = records[::every]
    path = write_cases_csv(records, tmp_path / "hersys.csv", "hersys", encoding=encoding, seed=1)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    text = raw.decode(encoding)
    for dirt in ("令和", "R0", "平成", "昭和", "大正", "令和元年", "２０２", "\u3000", "10歳未満"):
        assert dirt in text, dirt
    for era_letter in (r",R\d\.", r",H\d+[./]", r",S\d+[./]"):
        assert re.search(era_letter, text), era_letter
    assert any(line.split(",")[0].startswith(" ") or line.split(",")[0].endswith(" ")
               for line in text.splitlines()) or "\u3000" in text  # fmt: skip
    result = parse_cases(path, "hersys", today=dt.date(2022, 8, 26))
    assert result.encoding == encoding
    assert result.records == records
    kinds = Counter(w.key for w in result.warnings)
    assert set(kinds) <= {
        "cases.warning.onset_long_before_result",
        "cases.warning.specimen_after_result",
        "cases.warning.age_band_mismatch",
    }
    assert sum(kinds.values()) < 0.01 * len(records)


def test_clean_kumin_export(tmp_path: Path) -> None:
    recs = synth_cases(seed=2, n=500)
    path = write_cases_csv(recs, tmp_path / "k.csv", "kumin", dirty=False)
    assert "\u3000" not in path.read_text("utf-8-sig")
    assert parse_cases(path, "kumin", today=dt.date(2022, 8, 26)).records == recs


@pytest.mark.parametrize(("kwargs"), [{"n": 0}, {"n": 2.5}, {"seed": "x"}, {"seed": True}])
def test_bad_parameters(kwargs) -> None:
    with pytest.raises(ParameterError) as info:
        synth_cases(**kwargs)
    name = next(iter(kwargs))
    assert f"'{name}' parameter of synth_cases" in str(info.value)


def test_large_writer_streams_blocks(tmp_path: Path) -> None:
    path = write_large_cases_csv(tmp_path / "big.csv", 2_500, block=1_000, encoding="cp932")
    result = parse_cases(path, "hersys", today=dt.date(2022, 8, 26))
    assert result.rows == 2_500 and len(result.records) == 2_500
    assert {r.hersys_id[:3] for r in result.records} == {"000", "001", "002"}
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize("seed", [1, 17, 99])
def test_other_seeds_keep_the_properties(seed: int, tmp_path: Path) -> None:
    recs = synth_cases(seed=seed, n=4_000)
    assert 0.20 <= np.mean([r.onset_date is None for r in recs]) <= 0.40
    assert all(r.first_visit_date <= r.result_date <= END for r in recs)
    path = write_cases_csv(recs, tmp_path / "s.csv", "hersys", encoding="cp932", seed=seed)
    assert parse_cases(path, today=dt.date(2022, 8, 26)).records == recs
