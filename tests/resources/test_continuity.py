"""Continuity of core services: baselines, prediction intervals, flags and verdicts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from kumin.errors import DataError, ParameterError
from kumin.resources.continuity import assess_continuity, fit_quasi_poisson, read_service_counts
from kumin.synth.resources import service_counts

MONTHS = [dt.date(y, m, 1) for y in range(2017, 2022) for m in range(1, 13)]
DIP = {dt.date(2020, 4, 1): 0.5, dt.date(2020, 5, 1): 0.6}
CRISIS_END = "2021-02"  # twelve crisis months: Mar 2020 - Feb 2021


def _mean(m: dt.date, level: float = 300.0) -> float:
    years = (m.year - 2017) + (m.month - 1) / 12
    return level * np.exp(-0.02 * years) * (1 + 0.2 * np.sin(2 * np.pi * m.month / 12))


def simulated(
    seed: int,
    dip: dict[dt.date, float] | None = None,
    level: float = 300.0,
    months: list[dt.date] = MONTHS,
) -> pl.DataFrame:
    """A monthly series with trend, seasonality and negative-binomial noise (size 200)."""
    rng = np.random.default_rng(seed)
    counts = []
    for m in months:
        mu = _mean(m, level) * (dip or {}).get(m, 1.0)
        counts.append(int(rng.negative_binomial(200, 200 / (200 + mu))))
    return pl.DataFrame({"service": "contact_exams", "month": months, "count": counts})


def test_known_dip_is_flagged_exactly_and_false_alarm_rate():
    exact = 0
    dip_found = 0
    false_alarms = 0
    other_months = 0
    for seed in range(100):
        a = assess_continuity(simulated(seed, DIP), "2020-02", CRISIS_END, n_sim=2000, seed=seed)
        flagged = set(a.months.filter(pl.col("below"))["month"])
        dip_found += set(DIP) <= flagged
        extra = flagged - set(DIP)
        exact += flagged == set(DIP)
        false_alarms += len(extra)
        other_months += a.months.height - len(DIP)
    rate = false_alarms / other_months
    print(
        f"\ncontinuity: dip found in {dip_found}/100 seeds, flagged exactly in {exact}/100; "
        f"false-alarm rate {rate:.3f} per non-dip month ({false_alarms}/{other_months})"
    )
    assert dip_found >= 98
    # A month is flagged below the 2.5 % quantile of its prediction interval: the
    # nominal false-alarm rate is 2.5 % per month, so 10 clean months give a clean
    # series in 0.975^10 = 78 % of seeds. Over 1,000 month-trials the binomial SD
    # of the rate is 0.5 %; 5 % (nominal + 5 SD) catches a broken interval
    # (e.g. one ignoring parameter uncertainty measures ~4 %, no overdispersion ~20 %)
    # without failing by chance.
    assert rate < 0.05
    assert exact >= 60


def test_verdict_details_for_a_dip():
    a = assess_continuity(simulated(3, DIP), "2020-02", CRISIS_END, seed=1)
    (verdict,) = a.verdicts
    assert verdict.verdict == "disrupted"
    assert verdict.disrupted_months == sorted(DIP)
    assert verdict.recovered_month == dt.date(2020, 6, 1)
    # The shortfall is net over every month judged, not over the months picked
    # for being low (which would add their chance lows to it).
    expected_gap = float((a.months["expected"] - a.months["count"]).sum())
    assert verdict.shortfall == pytest.approx(expected_gap)
    true_loss = sum(_mean(m) * (1 - f) for m, f in DIP.items())  # ~ 260 visits
    assert verdict.shortfall_low < true_loss < verdict.shortfall_high
    assert verdict.shortfall_low < verdict.shortfall < verdict.shortfall_high
    assert verdict.dispersion >= 1.0 and verdict.baseline_months == 38


def test_maintained_service_in_most_seeds():
    maintained = sum(
        assess_continuity(simulated(seed), "2020-02", CRISIS_END, n_sim=1000, seed=seed)
        .verdicts[0]
        .verdict
        == "maintained"
        for seed in range(20)
    )
    # Per service over the whole period, not per month: 5 % nominal (the old
    # per-month rule kept only 0.975^12 = 74 % of undisturbed services).
    assert maintained >= 18


def test_no_recovery_when_the_dip_lasts():
    long_dip = {m: 0.4 for m in MONTHS if dt.date(2020, 4, 1) <= m <= dt.date(2021, 2, 1)}
    (verdict,) = assess_continuity(simulated(5, long_dip), "2020-02", CRISIS_END).verdicts
    assert verdict.verdict == "disrupted"
    assert verdict.recovered_month is None


def test_insufficient_baseline():
    short = simulated(1).filter(pl.col("month") >= dt.date(2019, 1, 1))
    (verdict,) = assess_continuity(short, "2020-02", CRISIS_END).verdicts
    assert verdict.verdict == "insufficient_data"


def test_quasi_poisson_recovers_dispersion():
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(2000), rng.uniform(0, 1, 2000)])
    mu = np.exp(3 + 0.5 * x[:, 1])
    y = rng.negative_binomial(mu / 3.0, 1 / 4.0)  # variance 4·mu
    beta, cov, phi = fit_quasi_poisson(x, y)
    assert beta == pytest.approx([3, 0.5], abs=0.05)
    assert phi == pytest.approx(4.0, rel=0.1)
    assert np.sqrt(cov[1, 1]) < 0.05


def test_synthetic_ward_spring_2020():
    a = assess_continuity(service_counts(seed=0), "2020-02", "2021-12")
    verdicts = {v.service: v for v in a.verdicts}
    assert len(verdicts) == 8
    contact = verdicts["tb_contact_examinations"]
    assert contact.verdict == "disrupted"
    assert {dt.date(2020, 4, 1), dt.date(2020, 5, 1)} <= set(contact.disrupted_months)
    assert contact.recovered_month is not None and contact.recovered_month <= dt.date(2020, 10, 1)
    assert verdicts["mr"].verdict == "disrupted"
    assert verdicts["dot_completions"].verdict == "maintained"


def test_reads_monthly_counts(tmp_path):
    f = tmp_path / "services.csv"
    f.write_text("service,month,count\nbcg,2019-01,580\nbcg,2019/02,600\nmr,2019年3月,1\n", "utf-8")
    frame = read_service_counts(f)
    assert frame["month"].to_list() == [
        dt.date(2019, 1, 1),
        dt.date(2019, 2, 1),
        dt.date(2019, 3, 1),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "事業,年月,件数\nbcg,2019-13,5\nbcg,2019-01,-1\nbcg,2019-02,5\nbcg,2019-02,6\n", "utf-8"
    )
    with pytest.raises(DataError) as info:
        read_service_counts(bad)
    assert {(p.line, p.key) for p in info.value.problems} == {
        (2, "core.cell.bad_month"),
        (3, "core.cell.below"),
        (5, "core.import.duplicate"),
    }


def test_parameters_are_checked():
    with pytest.raises(ParameterError):
        assess_continuity(simulated(1), "2020-13")
    with pytest.raises(ParameterError):
        assess_continuity(simulated(1), "2020-02", "2019-01")
    with pytest.raises(ParameterError):
        assess_continuity(simulated(1), "2020-02", trend="yes")


LONG = [dt.date(y, m, 1) for y in range(2017, 2023) for m in range(1, 13)][:63]  # to 2022-03


def test_false_alarms_over_the_whole_period_and_power_for_two_month_dips():
    """30 undisturbed services and 30 with a 35 % dip for two months, judged
    over 2020-03..2022-03 (25 months), the dip starting anywhere in it."""
    false_alarms = found = 0
    crisis = LONG.index(dt.date(2020, 3, 1))
    for seed in range(30):
        clean = simulated(seed, months=LONG)
        a = assess_continuity(clean, "2020-02", "2022-03", n_sim=1000, seed=seed)
        false_alarms += a.verdicts[0].verdict == "disrupted"
        start = crisis + (7 * seed) % 23
        dip = {LONG[start]: 0.65, LONG[start + 1]: 0.65}
        hit = assess_continuity(
            simulated(100 + seed, dip, months=LONG), "2020-02", "2022-03", n_sim=1000, seed=seed
        ).verdicts[0]
        found += hit.verdict == "disrupted" and bool(set(dip) & set(hit.disrupted_months))
    print(
        f"\ncontinuity 2020-03..2022-03: {false_alarms}/30 undisturbed flagged, {found}/30 dips found"
    )
    assert false_alarms <= 3
    assert found >= 24


def test_synthetic_ward_no_alarm_for_hpv_and_dpt_shortfall_near_truth():
    from kumin.synth.resources import SERVICES, service_counts

    a = assess_continuity(service_counts(seed=0), "2020-02", "2022-03")
    verdicts = {v.service: v for v in a.verdicts}
    # HPV rose (letters from autumn 2020), it never dipped.
    assert verdicts["hpv"].verdict == "maintained"
    assert verdicts["dot_completions"].verdict == "maintained"
    dpt = verdicts["dpt_ipv"]
    level, trend, _, shock = SERVICES["dpt_ipv"]
    true_loss = sum(
        level * np.exp(trend * ((int(k[:4]) - 2017) + (int(k[5:]) - 1) / 12)) * (1 - f)
        for k, f in shock.items()
    )
    # A 15-20 % dip of DPT-IPV is within two of its predictive standard
    # deviations a month, so the verdict may go either way; its net shortfall
    # (true ~754 doses) must be inside the interval whatever the verdict.
    print(
        f"\nDPT-IPV: {dpt.verdict}, shortfall {dpt.shortfall:.0f} "
        f"[{dpt.shortfall_low:.0f}, {dpt.shortfall_high:.0f}], true {true_loss:.0f}"
    )
    assert dpt.shortfall_low < true_loss < dpt.shortfall_high
    assert verdicts["tb_contact_examinations"].verdict == "disrupted"
