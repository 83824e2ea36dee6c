"""Synthetic notification records of a Setagaya-like ward, and the dirty CSV an
office would export of them.

:func:`synth_cases` draws 31,077 records (report No. 350's count) from late
January 2020 to 2022-01-14. The daily curve follows Tokyo's real waves
(:data:`TOKYO_WEEKLY_ONSETS`); delays onset → first visit → specimen → result
shorten over the pandemic; 20–40 % of records lack an onset date (asymptomatic
or unknown); vaccination follows Japan's rollout (health workers from
2021-02-17, people aged 65+ from 2021-04-12, everyone 12+ from June 2021,
second dose 3–4 weeks later, third doses 8 months after the second and not
before 2021-12-01); care settings shift from hospital to home by period.
Everything is drawn from ``numpy.random.default_rng(seed)``: the same seed
gives the same records.

:func:`write_cases_csv` writes them through a column profile with the dirt of
real exports (full-width digits, era dates, stray spaces, mixed code spellings)
that :func:`kumin.cases.parse.parse_cases` reads back to the same records.

>>> recs = synth_cases(seed=1, n=200)
>>> len(recs), recs[0].result_date <= END
(200, True)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
from pathlib import Path

import numpy as np

from kumin.cases.codes import AGE_BANDS, CARE_JA, DOSES_JA, SEX_JA, age_band_of
from kumin.cases.dates import age_on, to_era
from kumin.cases.parse import CaseRecord
from kumin.cases.profiles import Profile, load_profile
from kumin.core.tabular import atomic_write_bytes, csv_bytes
from kumin.errors import ParameterError
from kumin.synth.ward import Ward, setagaya_like_ward

REPORT_COUNT = 31_077
START = dt.date(2020, 1, 24)
END = dt.date(2022, 1, 14)

#: Tokyo's COVID-19 cases by week of onset, weeks starting Monday 2020-01-20;
#: the last entry holds only 2022-01-10..14 (5 days). Summed once from
#: ../shared/data/tokyo/tokyo_positive_by_onset_date_snapshot_2022-01-30.csv
#: (Tokyo Metropolitan Government open data, Tokyo-Metro-Gov/covid19
#: @016a6b01ac3d); 293,612 cases in all. Only the shape is used.
TOKYO_WEEKLY_ONSETS: tuple[int, ...] = (
    7, 5, 7, 6, 5, 14, 22, 49, 171, 523, 974, 722, 425, 251, 172, 55, 32, 56, 96, 109,
    157, 215, 381, 743, 1101, 1161, 1322, 1459, 1214, 1095, 802, 672, 689, 642, 623, 708,
    719, 797, 679, 737, 791, 1201, 1588, 1843, 1713, 1948, 2388, 2963, 3978, 7016, 8367,
    5611, 3835, 2676, 2035, 1532, 1273, 1131, 1233, 1358, 1568, 1710, 2068, 2482, 3334,
    3821, 4298, 4113, 3239, 2774, 2284, 1805, 1792, 2107, 2514, 3160, 4112, 6416, 11409,
    19223, 22582, 24820, 22242, 16657, 9236, 5255, 2684, 1284, 699, 344, 203, 153, 101,
    107, 91, 80, 75, 78, 117, 165, 255, 1109, 7725, 19224,
)  # fmt: skip
TOKYO_WEEK0 = dt.date(2020, 1, 20)

# Periods: first wave, rest of 2020, winter/spring 2021, Delta, Omicron.
_PERIOD_STARTS = (
    dt.date(2020, 6, 1),
    dt.date(2021, 1, 1),
    dt.date(2021, 7, 1),
    dt.date(2021, 12, 1),
)
_VISIT_DELAY = np.array([3.5, 2.6, 2.0, 1.8, 1.2])  # onset → first visit, mean days
_SPECIMEN_DELAY = np.array([1.5, 0.8, 0.5, 0.4, 0.3])  # first visit → specimen
_RESULT_DELAY = np.array([2.0, 1.3, 1.1, 1.0, 0.8])  # specimen → result
_MISSING_ONSET = np.array([0.20, 0.27, 0.30, 0.32, 0.38])
_ASYMPTOMATIC_OF_MISSING = 0.7
# Case age bands (not the population's): young adults dominate; elders more in
# the first and third waves, fewer once vaccinated; children more from Delta on.
_CASE_AGE = np.array([0.05, 0.07, 0.26, 0.19, 0.15, 0.12, 0.06, 0.05, 0.035, 0.012, 0.001])
_ELDER_FACTOR = np.array([1.3, 1.0, 1.4, 0.45, 0.6])
_CHILD_FACTOR = np.array([0.5, 0.8, 0.8, 1.3, 1.6])
# home, hotel, hospital, facility, pending
_CARE = np.array([
    [0.25, 0.12, 0.58, 0.03, 0.02],
    [0.45, 0.25, 0.25, 0.03, 0.02],
    [0.55, 0.17, 0.15, 0.05, 0.08],
    [0.62, 0.12, 0.08, 0.03, 0.15],
    [0.80, 0.10, 0.04, 0.03, 0.03],
])  # fmt: skip
_CARE_CODES = ("home", "hotel", "hospital", "facility", "pending")
_SYMPTOMS = (
    "発熱",
    "咳",
    "咽頭痛",
    "倦怠感",
    "頭痛",
    "鼻汁",
    "味覚障害",
    "嗅覚障害",
    "呼吸困難",
    "下痢",
    "関節痛",
)
_SYMPTOM_W = np.array([0.30, 0.17, 0.13, 0.10, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02, 0.02])
_NATIONALITIES = (
    "中国",
    "韓国",
    "ベトナム",
    "フィリピン",
    "ネパール",
    "アメリカ合衆国",
    "インド",
    "フランス",
)
_HCW_FIRST = dt.date(2021, 2, 17)
_ELDER_FIRST = dt.date(2021, 4, 12)
_GENERAL_FIRST = dt.date(2021, 6, 15)
_THIRD_FIRST = dt.date(2021, 12, 1)


def _bad(name: str, allowed: str, got: object) -> ParameterError:
    return ParameterError(
        "cases.synth.bad_parameter", name=name, func="synth_cases", allowed=allowed, got=got
    )


def daily_weights(start: dt.date = START, end: dt.date = END) -> tuple[list[dt.date], np.ndarray]:
    """Days from ``start`` to ``end`` and their share of cases (Tokyo's weekly shape).

    >>> days, w = daily_weights()
    >>> days[0], round(float(w.sum()), 6)
    (datetime.date(2020, 1, 24), 1.0)
    """
    days = [start + dt.timedelta(i) for i in range((end - start).days + 1)]
    last = TOKYO_WEEK0 + dt.timedelta(7 * len(TOKYO_WEEKLY_ONSETS) - 1)
    weights = np.zeros(len(days))
    for i, day in enumerate(days):
        week = (day - TOKYO_WEEK0).days // 7
        if 0 <= week < len(TOKYO_WEEKLY_ONSETS) and day <= last:
            week_start = TOKYO_WEEK0 + dt.timedelta(7 * week)
            in_range = min((END - week_start).days + 1, 7)  # the table stops at END
            weights[i] = TOKYO_WEEKLY_ONSETS[week] / in_range
    return days, weights / weights.sum()


def _period(day_index: np.ndarray, days: list[dt.date]) -> np.ndarray:
    bounds = [(b - days[0]).days for b in _PERIOD_STARTS]
    return np.searchsorted(bounds, day_index, side="right")


def _delay(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    # Negative binomial with shape 2: over-dispersed like real reporting delays.
    return rng.negative_binomial(2, 2.0 / (2.0 + mean))


def synth_cases(seed: int = 0, n: int = REPORT_COUNT, ward: Ward | None = None) -> list[CaseRecord]:
    """Draw ``n`` notification records of the synthetic ward.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; same seed, same records.
    n : int
        Number of records (default 31,077 as in report No. 350).
    ward : Ward, optional
        Towns and populations (default :func:`setagaya_like_ward`).

    Returns
    -------
    list of CaseRecord
        Sorted by result date, then ID; ``town``, ``age_years`` and ``age_band``
        filled as the parser derives them.

    Examples
    --------
    >>> a = synth_cases(seed=3, n=50); b = synth_cases(seed=3, n=50)
    >>> a == b
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise _bad("seed", "an int", seed)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= 5_000_000:
        raise _bad("n", "an int in [1, 5000000]", n)
    ward = ward or setagaya_like_ward()
    rng = np.random.default_rng(int(seed))
    days, weights = daily_weights()
    last = len(days) - 1

    ref = np.sort(rng.choice(len(days), size=n, p=weights))
    period = _period(ref, days)
    missing_onset = rng.random(n) < _MISSING_ONSET[period]
    asymptomatic = missing_onset & (rng.random(n) < _ASYMPTOMATIC_OF_MISSING)
    visit = ref + np.where(asymptomatic, 0, _delay(rng, _VISIT_DELAY[period]))
    specimen = visit + _delay(rng, _SPECIMEN_DELAY[period])
    result = specimen + 1 + _delay(rng, _RESULT_DELAY[period] - 0.5).clip(0)
    # A few long onset-to-result gaps and specimen dates entered after the
    # result: real exports have them and the importer warns about them.
    late = (rng.random(n) < 0.003) & ~missing_onset
    result = np.where(late, result + rng.integers(28, 45, n), result)
    result = np.minimum(result, last)
    specimen = np.minimum(specimen, result)
    visit = np.minimum(visit, specimen)
    glitch = rng.random(n) < 0.001
    specimen = np.where(glitch & (result < last), result + 1, specimen)

    # Ages by period.
    probs = np.tile(_CASE_AGE, (5, 1))
    probs[:, 6:] *= _ELDER_FACTOR[:, None]
    probs[:, :2] *= _CHILD_FACTOR[:, None]
    probs /= probs.sum(axis=1, keepdims=True)
    cum = probs.cumsum(axis=1)
    band_idx = (rng.random(n)[:, None] > cum[period]).sum(axis=1).clip(0, 10)
    age = np.where(
        band_idx == 10, 100 + rng.integers(0, 5, n), band_idx * 10 + rng.integers(0, 10, n)
    )
    birth_offset = rng.integers(0, 365, n)

    is_male = rng.random(n) < np.where(age >= 20, 0.53, 0.51)
    sex_rare = rng.random(n)
    foreign = rng.random(n) < 0.045
    nation = rng.integers(0, len(_NATIONALITIES), n)

    town_idx = rng.choice(len(ward.towns), size=n, p=ward.town_weights())
    chome_u, banchi, go, addr_style = (rng.random(n), rng.integers(1, 31, n),
                                       rng.integers(1, 26, n), rng.integers(0, 4, n))  # fmt: skip

    care = _care_settings(period, age, rng.random(n))
    n_symptoms = rng.integers(1, 4, n)
    sym_cum = _SYMPTOM_W.cumsum() / _SYMPTOM_W.sum()
    symptom_idx = np.searchsorted(sym_cum, rng.random((n, 3))).clip(0, len(_SYMPTOMS) - 1)
    # A second stream: the rejection loop draws a varying number of values.
    vacc_rng = random.Random(f"kumin-synth-vaccine-{int(seed)}")
    hcw = rng.random(n) < 0.04
    ids = rng.choice(90_000_000, size=n, replace=False) + 10_000_000
    band_slip = rng.random(n) < 0.0005

    # Plain Python lists: indexing numpy arrays one element at a time is slow.
    cols = [x.tolist() for x in (period, ref, missing_onset, asymptomatic, visit, specimen,
                                 result, age, band_idx, birth_offset, is_male, sex_rare,
                                 foreign, nation, town_idx, chome_u, banchi, go, addr_style,
                                 care, n_symptoms, symptom_idx, hcw, ids, band_slip)]  # fmt: skip
    records: list[CaseRecord] = []
    for (p, ref_i, no_onset, asym_i, visit_i, specimen_i, result_i, a, band_i, offset, male,
         rare, foreign_i, nation_i, town_i, chome_i, banchi_i, go_i, style, care_i, n_sym,
         sym_i, hcw_i, id_i, slip) in zip(*cols, strict=True):  # fmt: skip
        ref_date = days[ref_i]
        onset = None if no_onset else ref_date
        result_date = days[result_i]
        birth = _birth_date(ref_date, a, offset)
        band_at_result = age_band_of(age_on(birth, result_date))
        if slip and band_i < 9:
            band_at_result = AGE_BANDS[band_i + 2]  # mis-keyed: the importer warns
        if rare < 0.001:
            sex = "unknown" if rare < 0.0007 else "other"
        else:
            sex = "male" if male else "female"
        town = ward.towns[town_i]
        address = _address(town.name, town.chome, chome_i, banchi_i, go_i, style)
        if asym_i:
            symptoms, asym = None, True
        else:
            picks: list[str] = []
            for k in sym_i[:n_sym]:
                name = _SYMPTOMS[k]
                if p == 4 and name in ("味覚障害", "嗅覚障害"):
                    name = "咽頭痛"  # Omicron rarely took taste or smell
                if name not in picks:
                    picks.append(name)
            symptoms, asym = "、".join(picks), False
        doses = _vaccine_doses(a, hcw_i, onset or days[specimen_i], p, vacc_rng)
        records.append(
            CaseRecord(
                hersys_id=str(id_i),
                birth_date=birth,
                age_band=band_at_result,
                sex=sex,
                nationality=_NATIONALITIES[nation_i] if foreign_i else "日本",
                residence="東京都世田谷区",
                address=address,
                town=town.name,
                onset_date=onset,
                first_visit_date=days[visit_i],
                specimen_date=days[specimen_i],
                result_date=result_date,
                symptoms=symptoms,
                asymptomatic=asym,
                vaccine_doses=doses,
                care_setting=_CARE_CODES[care_i],
                age_years=a if onset else age_on(birth, result_date),
            )
        )
    records.sort(key=lambda r: (r.result_date, r.hersys_id))
    return records


def _birth_date(ref: dt.date, age: int, offset: int) -> dt.date:
    """A birth date giving exactly ``age`` completed years on ``ref``."""
    last_birthday = _shift_years(ref, -age)
    birth = last_birthday - dt.timedelta(days=offset)
    while age_on(birth, ref) > age:
        birth += dt.timedelta(days=1)
    while age_on(birth, ref) < age:
        birth -= dt.timedelta(days=1)
    return birth


def _shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


_KANJI_DIGITS = "〇一二三四五六七八九"


def _kanji_number(k: int) -> str:
    return {10: "十"}.get(k, _KANJI_DIGITS[k]) if k <= 10 else str(k)


def _address(town: str, chome: int, u: float, banchi: int, go: int, style: int) -> str:
    if chome == 0:
        return f"{town}{banchi}番{go}号"
    c = 1 + int(u * chome)
    return (
        f"{town}{_kanji_number(c)}丁目{banchi}番{go}号",
        f"{town}{c}-{banchi}-{go}",
        f"{town}{c}丁目{banchi}-{go}",
        f"{town}{_kanji_number(c)}丁目{banchi}番地{go}",
    )[style]


def _care_settings(period: np.ndarray, age: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index into ``_CARE_CODES`` per case: by period, elders more often in
    hospital or a facility, children rarely in a hotel."""
    p = _CARE[period].copy()
    old = age >= 70
    p[old, 2] *= 3.0
    p[old, 3] *= 3.0
    p[age < 15, 1] *= 0.3
    cum = (p / p.sum(axis=1, keepdims=True)).cumsum(axis=1)
    return (u[:, None] > cum).sum(axis=1).clip(0, len(_CARE_CODES) - 1)


def _vaccine_doses(age: int, hcw: bool, on: dt.date, period: int, rng: random.Random) -> int | None:
    """Doses received before ``on`` under Japan's rollout; ``None`` for 不明.

    Vaccinated people were infected less, so a case's history is drawn from
    the population's by rejection: a history with ``d`` doses is kept with
    probability 1 − VE(d), which gives P(history | case) ∝ P(history)(1 − VE).
    """
    if rng.random() < 0.04:
        return None
    if age < 12 or on <= _HCW_FIRST:
        return 0
    doses = 0
    for _ in range(50):
        u = [rng.random() for _ in range(5)]
        doses = _doses_of(age, hcw, on, u)
        protect = {0: 0.0, 1: 0.3, 2: 0.75 if period < 4 else 0.4, 3: 0.6}[doses]
        if u[4] >= protect:
            break
    return doses


def _doses_of(age: int, hcw: bool, on: dt.date, u: list[float]) -> int:
    if hcw and 20 <= age < 65:
        first = _HCW_FIRST + dt.timedelta(days=int(u[0] * 70))
    elif age >= 65 and u[1] < 0.92:
        first = _ELDER_FIRST + dt.timedelta(days=int(u[0] ** 1.3 * 100))
    elif age < 65 and u[1] < 0.80:
        first = _GENERAL_FIRST + dt.timedelta(days=int(u[0] * 120))
    else:
        return 0
    second = first + dt.timedelta(days=21 + int(u[2] * 8))
    third = max(second + dt.timedelta(days=240), _THIRD_FIRST) + dt.timedelta(days=int(u[3] * 40))
    return sum(d < on for d in (first, second, third))


# --- writing ----------------------------------------------------------------------

_FULLWIDTH = str.maketrans("0123456789-/", "０１２３４５６７８９－／")
_BAND_JA = {b: f"{b.split('-')[0]}代" for b in AGE_BANDS[1:10]} | {
    "0-9": "10歳未満",
    "100+": "100歳以上",
}


def write_cases_csv(
    records: list[CaseRecord],
    path: str | os.PathLike[str],
    profile: str | Profile = "hersys",
    *,
    encoding: str = "utf-8-sig",
    dirty: bool = True,
    seed: int = 0,
) -> Path:
    """Write records as an office's CSV export through a column profile.

    Parameters
    ----------
    records : the records (e.g. from :func:`synth_cases`).
    path : where to write (atomically).
    profile : ``hersys`` writes Japanese codes; a profile whose headers are all
        ASCII (``kumin``) writes the canonical codes and ISO dates.
    encoding : ``utf-8-sig`` (UTF-8 with BOM, default), ``utf-8`` or ``cp932``.
    dirty : add the dirt of real exports (full-width digits, era dates, stray
        spaces, mixed spellings); the importer reads it back to the same records.
    seed : seed of the dirt.
    """
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    path = Path(path)
    atomic_write_bytes(path, _csv_block(records, prof, encoding, dirty, seed, header=True))
    return path


def _csv_block(
    records: list[CaseRecord], prof: Profile, encoding: str, dirty: bool, seed: int, header: bool
) -> bytes:
    japanese = any(not h.isascii() for h in prof.headers)
    rng = np.random.default_rng(seed) if dirty else None
    fields = list(prof.columns)
    rows = [[_cell(r, fld, japanese, rng) for fld in fields] for r in records]
    data = csv_bytes(prof.headers, rows, encoding)
    return data if header else data[data.index(b"\r\n") + 2 :]


def write_large_cases_csv(
    path: str | os.PathLike[str],
    n: int,
    profile: str | Profile = "hersys",
    *,
    seed: int = 0,
    encoding: str = "utf-8-sig",
    dirty: bool = True,
    block: int = REPORT_COUNT,
) -> Path:
    """Write ``n`` synthetic records with bounded memory, for import benchmarks.

    Records are drawn ``block`` at a time (each block a whole synthetic
    pandemic from its own seed) and appended to a temporary file that replaces
    ``path`` at the end. IDs get the block number in front so they stay unique.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise _bad("n", "an int >= 1", n)
    if isinstance(block, bool) or not isinstance(block, int) or not 1 <= block <= 5_000_000:
        raise _bad("block", "an int in [1, 5000000]", block)
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        with open(tmp, "wb") as fh:
            done = 0
            for k in range((n + block - 1) // block):
                size = min(block, n - done)
                recs = [
                    dataclasses.replace(r, hersys_id=f"{k:03d}{r.hersys_id}")
                    for r in synth_cases(seed=seed * 1000 + k, n=size)
                ]
                fh.write(_csv_block(recs, prof, encoding, dirty, seed * 1000 + k, header=k == 0))
                done += size
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _cell(r: CaseRecord, fld: str, japanese: bool, rng: np.random.Generator | None) -> str:
    value = getattr(r, fld)
    if value is None:
        if fld == "symptoms" and r.asymptomatic:
            return "無症状" if japanese else "asymptomatic"
        if fld == "vaccine_doses" and japanese:
            return "不明"
        return ""
    if isinstance(value, dt.date):
        text = _date_text(value, fld, rng) if japanese else value.isoformat()
    elif not japanese:
        text = str(value).lower() if isinstance(value, bool) else str(value)
    elif fld == "sex":
        text = SEX_JA[value]
        if rng is not None and value in ("male", "female") and rng.random() < 0.15:
            text = text[0] if rng.random() < 0.6 else {"male": "M", "female": "F"}[value]
    elif fld == "age_band":
        text = _BAND_JA[value]
    elif fld == "care_setting":
        text = CARE_JA[value]
    elif fld == "vaccine_doses":
        text = DOSES_JA[value]
    elif fld == "symptoms" and rng is not None:
        text = value.replace("、", ("、", "・", ",")[int(rng.integers(0, 3))])
    elif isinstance(value, bool):
        text = "1" if value else "0"
    else:
        text = str(value)
    if rng is None:
        return text
    if rng.random() < 0.08:
        text = text.translate(_FULLWIDTH)
    if rng.random() < 0.05:
        pad = (" ", "\u3000", "  ")[int(rng.integers(0, 3))]
        text = pad + text if rng.random() < 0.5 else text + pad
    return text


def _date_text(d: dt.date, fld: str, rng: np.random.Generator | None) -> str:
    if rng is None:
        return f"{d.year}/{d.month}/{d.day}"
    u = rng.random()
    if u < 0.30:
        return d.isoformat()
    if u < 0.55:
        return f"{d.year}/{d.month}/{d.day}"
    if u < 0.65:
        return f"{d.year}年{d.month}月{d.day}日"
    if d < dt.date(1868, 1, 25):
        return d.isoformat()
    if u < 0.80:
        return to_era(d, "kanji")
    if u < 0.90:
        return to_era(d, "letter")
    return to_era(d, "padded")
