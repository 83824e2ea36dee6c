"""The Setagaya-like ward: real town names, plausible populations and ages."""

from __future__ import annotations

from kumin.synth.ward import setagaya_like_ward


def test_towns_are_setagayas() -> None:
    ward = setagaya_like_ward()
    names = ward.town_names
    assert len(names) == 61 and len(set(names)) == 61
    for name in ("太子堂", "三軒茶屋", "北沢", "成城", "玉川", "等々力"):
        assert name in names
    assert ward.town("三軒茶屋").chome == 2
    assert {t.district for t in ward.towns} == {"世田谷", "北沢", "玉川", "砧", "烏山"}
    assert 270 <= sum(t.chome for t in ward.towns) <= 280  # the ward has 277 丁目


def test_populations() -> None:
    ward = setagaya_like_ward()
    assert ward.population == 920_000
    pops = [t.population for t in ward.towns]
    assert min(pops) > 0
    residential = [t.population for t in ward.towns if t.chome > 0]
    assert min(residential) > 2_000 and max(residential) < 40_000
    assert abs(ward.town_weights().sum() - 1) < 1e-12
    assert setagaya_like_ward(100_000).population == 100_000


def test_age_structure() -> None:
    ward = setagaya_like_ward()
    assert abs(sum(ward.age_shares.values()) - 1) < 1e-9
    bands = ward.age_band_populations()
    assert abs(sum(bands.values()) - 920_000) < 20
    # Working-age adults dominate; the oldest are few.
    assert bands["40-49"] > bands["70-79"] > bands["90-99"] > bands["100+"]
