"""A period asked for is the period plotted, on the web, the API and the CLI (#14).

The records are selected by the plotted date (onset), and the estimators read the
history they need before the first plotted day: the estimates of a period are the
estimates of the full span on the same days, with no spike at the edge.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from kumin.core.i18n import t
from kumin.synth.cases import synth_cases, write_cases_csv

FROM, TO = "2021-07-01", "2021-09-30"
PERIOD = f"from={FROM}&to={TO}"


@pytest.fixture
def fresh_db(sqlite_db):
    # the selection by onset date is SQL, tested on both backends in tests/cases/test_store.py
    return sqlite_db


@pytest.fixture
def ward(cli, users, tmp_path):
    path = write_cases_csv(synth_cases(seed=11, n=3000), tmp_path / "cases.csv")
    r = cli("cases", "import", str(path), user=users.by_role["epidemiologist"])
    assert r.exit_code == 0, r.output
    return users


def _by_date(rows, column="r_median"):
    return {str(r["date"]): r[column] for r in rows}


def _same_estimates(period: dict, full: dict) -> None:
    """Every estimate of the period is the full span's estimate of that day (within 1%:
    the history stops at the serial interval's 99.9th percentile)."""
    assert min(period) == FROM and max(period) == TO
    assert len(period) == (dt.date.fromisoformat(TO) - dt.date.fromisoformat(FROM)).days + 1
    for day, value in period.items():
        assert value is not None, day
        assert value == pytest.approx(full[day], rel=0.01), day


def test_web_pages_and_charts_plot_exactly_the_period(ward, app_client):
    app_client.login(ward.by_role["epidemiologist"])
    page = app_client.get(f"/epi/rt?{PERIOD}").text
    assert f'name="to" value="{TO}"' in page  # the field keeps what was asked
    assert f'name="end" value="{TO}"' in page  # and the infection-date job gets it

    fig = app_client.get(f"/epi/charts/rt.json?{PERIOD}").json()
    full_api = app_client.get("/api/v1/epi/rt").json()
    days = [x for trace in fig["data"] for x in trace.get("x", [])]
    assert min(days) == FROM and max(days) == TO
    model = next(tr for tr in fig["data"] if tr.get("name") == t("epi.fig.rt_model", "ja"))
    plotted = dict(zip(model["x"], model["y"], strict=True))
    cap = fig["layout"]["yaxis"]["range"][1]  # the chart clips the median at its top
    full = {d: min(v, cap) for d, v in _by_date(full_api["rows"]).items() if v is not None}
    _same_estimates(plotted, full)

    curve = app_client.get(f"/epi/charts/curve.json?{PERIOD}").json()
    curve_days = [x for trace in curve["data"] for x in trace.get("x", [])]
    assert min(curve_days) == FROM and max(curve_days) == TO

    towns = app_client.get(f"/epi/charts/towns.json?{PERIOD}").json()
    town_days = [x for trace in towns["data"] for x in trace.get("x", [])]
    assert min(town_days) >= FROM and max(town_days) == TO


def test_api_reads_to_and_gives_the_period_its_history(ward, app_client):
    app_client.login(ward.by_role["epidemiologist"])
    period = app_client.get(f"/api/v1/epi/rt?{PERIOD}").json()
    full = app_client.get("/api/v1/epi/rt").json()
    _same_estimates(_by_date(period["rows"]), _by_date(full["rows"]))
    assert max(r["r_median"] for r in period["rows"]) < 3  # no edge spike

    curve = app_client.get(f"/api/v1/epi/curve?{PERIOD}").json()
    full_curve = app_client.get("/api/v1/epi/curve").json()
    # the 7-day mean starts on the first day, from the six days before it
    _same_estimates(_by_date(curve["rows"], "cases_avg"), _by_date(full_curve["rows"], "cases_avg"))
    assert curve["meta"]["start"] == FROM and curve["meta"]["end"] == TO

    growth = app_client.get(f"/api/v1/epi/growth?{PERIOD}").json()
    assert min(r["date"] for r in growth["rows"]) == FROM
    assert max(r["date"] for r in growth["rows"]) == TO
    nowcast = app_client.get(f"/api/v1/epi/nowcast?{PERIOD}").json()
    assert all(FROM <= r["date"] <= TO for r in nowcast["rows"])

    bad = app_client.get("/api/v1/epi/rt?from=2021-09-30&to=2021-07-01")
    assert bad.status_code == 400 and "2021-07-01" in bad.json()["error"]["message"]


def test_cli_plots_exactly_the_period(ward, cli):
    epi = ward.by_role["epidemiologist"]

    def rows(*args):
        r = cli("epi", "rt", "--format", "csv", *args, user=epi)
        assert r.exit_code == 0, r.output
        return list(csv.DictReader(io.StringIO(r.stdout.lstrip("\ufeff"))))

    def medians(table):
        return {r["date"]: float(r["r_median"]) if r["r_median"] else None for r in table}

    period = medians(rows("--from", FROM, "--to", TO))
    _same_estimates(period, medians(rows()))
    assert max(period.values()) < 3


def test_report_plots_exactly_the_period(ward, cli, tmp_path):
    out = tmp_path / "epi.html"
    r = cli(
        "report", "epi", "--format", "html", "--lang", "ja", "--from", FROM, "--to", TO,
        "--out", str(out), user=ward.by_role["epidemiologist"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    html = out.read_text("utf-8")
    assert "令和3年7月1日" in html and "令和3年9月30日" in html  # the period, as asked
    weeks = re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td><td class=\"num\">", html)
    assert weeks and min(weeks) >= "2021-06-28" and max(weeks) <= TO  # ISO weeks of the period


def test_rt_controls_and_the_recent_weeks_view(ward, app_client):
    app_client.login(ward.by_role["epidemiologist"])
    page = app_client.get("/epi/rt?window=14&si_mean=3.5&si_sd=1.5").text
    assert 'name="window" min="1" max="60" value="14"' in page and 'value="3.5"' in page
    wide = app_client.get("/api/v1/epi/rt?window=14&si_mean=3.5&si_sd=1.5").json()
    fig = app_client.get("/epi/charts/rt.json?window=14&si_mean=3.5&si_sd=1.5").json()
    model = next(tr for tr in fig["data"] if tr.get("name") == t("epi.fig.rt_model", "ja"))
    cap = fig["layout"]["yaxis"]["range"][1]
    full = {d: min(v, cap) for d, v in _by_date(wide["rows"]).items() if v is not None}
    assert all(v == pytest.approx(full[d]) for d, v in zip(model["x"], model["y"], strict=True))
    # the full span (two years) opens on its last 12 weeks, with a button for all of it
    xaxis = fig["layout"]["xaxis"]
    first, last = (dt.date.fromisoformat(d[:10]) for d in xaxis["range"])
    assert (last - first).days == 84 and last == dt.date.fromisoformat(max(model["x"]))
    assert [b["label"] for b in xaxis["rangeselector"]["buttons"]][-1] == "全期間"


def test_age_bands_in_age_order():
    import polars as pl

    from kumin.cases.service import FRAME_SCHEMA
    from kumin.epi import service

    bands = ["100+", "20-29", "10-19", "0-9"] * 10
    onset = [dt.date(2021, 7, 1) + dt.timedelta(days=i % 20) for i in range(len(bands))]
    frame = pl.DataFrame(
        {c: [None] * len(bands) for c in FRAME_SCHEMA}, schema=FRAME_SCHEMA
    ).with_columns(pl.Series("onset_date", onset, dtype=pl.Date), pl.Series("age_band", bands))
    curve = service.analyse_curve(frame, by="age").frame
    assert list(dict.fromkeys(curve["age_band"])) == ["0-9", "10-19", "20-29", "100+"]
    rt = service.analyse_rt(frame, by="age").frame
    assert list(dict.fromkeys(rt["region"])) == ["0-9", "10-19", "20-29", "100+"]


def test_delays_page_has_the_fit_table(ward, app_client):
    app_client.login(ward.by_role["epidemiologist"])
    assert 'hx-get="/epi/delays/table?' in app_client.get("/epi/delays").text
    table = app_client.get(f"/epi/delays/table?{PERIOD}").text
    assert 'id="delay-fits"' in table and "AIC 最小" in table and "ガンマ" in table
    assert "gamma" not in table and "<html" not in table  # a fragment, in Japanese
