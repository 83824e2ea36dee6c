"""Disclosure control: risk measures, the generalisation search, releases that reach
k, public tables an LP attacker cannot undo, and a linkage attack on the register."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from collections import Counter

import numpy as np
import pytest
from scipy.optimize import linprog

from kumin.cases import disclosure, service
from kumin.cases.contracts import ContractInput, add_contract
from kumin.cases.disclosure import anonymise, apply_scheme, load_hierarchies, risk_measures
from kumin.cases.releases import create_release
from kumin.cases.tables import MARKER, protect_table
from kumin.core import audit
from kumin.core.context import context
from kumin.core.db import session_scope
from kumin.core.permissions import Actor
from kumin.errors import ParameterError
from kumin.synth.cases import synth_cases, write_cases_csv
from kumin.synth.ward import setagaya_like_ward

EPI = Actor("u-epidemiologist", "epidemiologist", lang="en")
ITEMS = [
    "HER-SYS ID",
    "年代",
    "性別",
    "国籍",
    "住所（町名まで）",
    "発病年月日",
    "療養先",
    "ワクチン接種歴",
]
QIS = ["age_band", "sex", "nationality", "town", "onset_date", "vaccine_doses", "care_setting"]
TODAY = dt.date.today()


def _columns(records, names):
    return {n: [getattr(r, n) for r in records] for n in names}


# -- the pure core ---------------------------------------------------------------------------


def test_risk_measures_by_hand():
    cols = {
        "sex": ["m", "m", "m", "f", "f", "f", "f"],
        "town": ["成城", "成城", "砧", "砧", "砧", "砧", "砧"],
        "care": ["home", "hotel", "home", "home", "home", "home", "home"],
    }
    r = risk_measures(cols, ["sex", "town"], ["care"], k=3)
    # classes: (m,成城)=2, (m,砧)=1, (f,砧)=4
    assert (r["classes"], r["k"], r["records_at_risk"]) == (3, 1, 3)
    assert r["records_at_risk_share"] == round(3 / 7, 6)
    assert r["prosecutor_risk"] == 1.0 and r["average_risk"] == round(3 / 7, 6)
    assert r["l_diversity"] == {"care": 1}  # (f, 砧): all at home


def test_hierarchy_levels_of_setagaya():
    h = load_hierarchies("setagaya")
    day = dt.date(2021, 8, 2)
    dates = h.dimension_of("onset_date")
    assert [dates.generalise("onset_date", day, i) for i in range(4)] == [
        day, "2021-W31", "2021-08", "*"
    ]  # fmt: skip
    age = h.dimension_of("age_band")
    assert age.generalise("age_band", "60-69", 1) == "60-79"
    # the under/over 65 split comes from the age in years: 60-69 straddles it
    assert age.generalise("age_band", "60-69", 2, 64) == "0-64"
    assert age.generalise("age_band", "60-69", 2, 66) == "65+"
    town = h.dimension_of("town")
    assert [town.generalise("town", "上北沢", i) for i in range(3)] == [
        "上北沢",
        "烏山",
        "世田谷区",
    ]
    assert {town.generalise("town", t.name, 1) for t in setagaya_like_ward().towns} == {
        "世田谷", "北沢", "玉川", "砧", "烏山"
    }  # fmt: skip
    nat = h.dimension_of("nationality")
    assert [nat.generalise("nationality", v, 1) for v in ("日本", "中国")] == ["日本", "その他"]
    with pytest.raises(ParameterError, match="does not know"):
        town.generalise("town", "梅田", 1)


def test_another_municipality_supplies_its_own_areas(tmp_path):
    folder = tmp_path / "hierarchies"
    folder.mkdir()
    (folder / "nakano.toml").write_text(
        'name = "nakano"\n[town]\nlevels = ["町名", "地域", "区"]\ntop = "中野区"\n'
        '[town.areas]\n"北部" = ["江古田", "丸山"]\n"南部" = ["弥生町", "南台"]\n',
        "utf-8",
    )
    h = load_hierarchies("nakano", [tmp_path])
    (folder / "bad.toml").write_text('[sex]\nlevels = ["sex", "group", "*"]\n', "utf-8")
    with pytest.raises(ParameterError, match="Cannot read 'sex'"):
        load_hierarchies("bad", [tmp_path])
    a = anonymise({"town": ["江古田", "丸山", "弥生町", "南台"]}, ["town"], h, k=2)
    assert a.columns["town"] == ["北部", "北部", "南部", "南部"]
    assert h.sha256 != load_hierarchies("setagaya").sha256


@pytest.mark.parametrize("seed", [0, 7])
def test_search_finds_the_least_loss_in_the_whole_lattice(seed):
    records = synth_cases(seed=seed, n=400)
    qis = ["age_band", "sex", "nationality", "town", "onset_date"]
    cols, ages = _columns(records, qis), [r.age_years for r in records]
    h = load_hierarchies("setagaya")
    best = anonymise(cols, qis, h, k=5, max_suppression=0.05, ages=ages)
    # every node of the lattice, by brute force
    dims = [h.dimension_of(q) for q in qis if q != "onset_date"] + [h.dimensions["dates"]]
    losses = []
    for node in itertools.product(*(range(d.height) for d in dims)):
        scheme = {d.name: lvl for d, lvl in zip(dims, node, strict=True)}
        a = apply_scheme(cols, qis, h, scheme, 5, ages)
        if a.suppressed.sum() <= int(0.05 * len(records)):
            losses.append(a.information_loss)
    assert best.information_loss == min(losses)
    assert best.nodes < best.lattice  # the bound cut the walk short
    kept = {q: [v for v, s in zip(best.columns[q], best.suppressed, strict=True) if not s]
            for q in qis}  # fmt: skip
    assert risk_measures(kept, qis, [], 5)["k"] >= 5
    # reproducible from what the manifest records: the same scheme, the same records
    again = apply_scheme(cols, qis, h, best.scheme, 5, ages)
    assert again.columns == best.columns
    assert (again.suppressed == best.suppressed).all()


def test_no_quasi_identifier_withholds_nothing():
    h = load_hierarchies("setagaya")
    assert anonymise({}, [], h, k=5, ages=[30, 40, 50]).suppressed.tolist() == [False] * 3


def test_unreachable_k_is_a_clear_error():
    h = load_hierarchies("setagaya")
    from kumin.errors import StateError

    with pytest.raises(StateError, match="no generalisation reaches k=5"):
        anonymise({"sex": ["male", "female", "male"]}, ["sex"], h, k=5, max_suppression=0.0)


# -- public tables -------------------------------------------------------------------------


def _attack(tables: dict[str, list[int | str]], total: int) -> list[tuple[float, float]]:
    """Each suppressed cell's feasible range given everything published (LP, SciPy)."""
    cells = [(name, i) for name, row in tables.items() for i, c in enumerate(row) if c == MARKER]
    if not cells:
        return []
    a_eq, b_eq = [], []
    for name, row in tables.items():
        coeffs = [1.0 if cell[0] == name else 0.0 for cell in cells]
        if any(coeffs):
            a_eq.append(coeffs)
            b_eq.append(total - sum(c for c in row if c != MARKER))
    # every listed cell holds at least one record
    bounds = [(1, None)] * len(cells)
    ranges = []
    for j in range(len(cells)):
        c = np.zeros(len(cells))
        c[j] = 1.0
        low = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status == 0 and high.status == 0
        ranges.append((low.fun, -high.fun))
    return ranges


def _primary_only(cells: list[int], threshold: int = 5) -> list[int | str]:
    return [MARKER if 0 < c < threshold else c for c in cells]


def test_one_small_cell_is_recovered_by_primary_suppression_alone_but_not_after():
    table = [120, 3, 57, 41]
    # the old way: only the small cell hidden; the total gives it back exactly
    ((low, high),) = _attack({"t": _primary_only(table)}, sum(table))
    assert high - low == pytest.approx(0) and low == pytest.approx(3)
    published = protect_table(table)
    assert published.count(MARKER) == 2
    for low, high in _attack({"t": published}, sum(table)):
        assert high - low > 5


def test_lp_attacker_recovers_no_cell_of_the_published_tables():
    records = synth_cases(seed=3, n=2000)
    total = len(records)
    by = {
        "month": Counter(r.result_date.strftime("%Y-%m") for r in records),
        "sex": Counter(r.sex for r in records),
        "town": Counter(r.town for r in records),
        "age_band": Counter(r.age_band for r in records),
        "care_setting": Counter(r.care_setting for r in records),
    }
    raw = {name: [c[k] for k in sorted(c, key=str)] for name, c in by.items()}
    assert any(sum(0 < x < 5 for x in row) == 1 for row in raw.values())  # one small cell
    published = {name: protect_table(row) for name, row in raw.items()}
    published = {name: row for name, row in published.items() if row is not None}
    assert sum(row.count(MARKER) for row in published.values()) > 0
    for low, high in _attack(published, total):
        assert high - low > 5
    # while primary suppression alone gives cells away
    ranges = _attack({n: _primary_only(r) for n, r in raw.items()}, total)
    assert min(high - low for low, high in ranges) <= 5


# -- releases on the synthetic ward (both databases) -------------------------------------------


def _synthetic_ward(settings, tmp_path, n=1500, seed=11):
    records = synth_cases(seed=seed, n=n)
    path = tmp_path / "ward.csv"
    write_cases_csv(records, path, "hersys", encoding="utf-8", dirty=False, seed=seed)
    with context(settings, EPI) as ctx:
        service.import_cases(ctx, path)
    return records


def _contract(settings, code="K5", k=5, items=ITEMS):
    data = ContractInput(
        code=code,
        title="開示制御の検証",
        start=TODAY - dt.timedelta(days=1),
        end=TODAY + dt.timedelta(days=30),
        contractors=["滋賀大学"],
        items=list(items),
        k=k,
    )
    with context(settings, EPI) as ctx:
        return add_contract(ctx, data)


def _read_release(out) -> tuple[list[dict[str, str]], dict]:
    rows = list(csv.DictReader(io.StringIO((out / "cases.csv").read_text("utf-8-sig"))))
    return rows, json.loads((out / "manifest.json").read_text("utf-8"))


def test_release_reaches_k_and_records_how(cli, users, tmp_path):
    settings = cli.settings
    _synthetic_ward(settings, tmp_path)
    _contract(settings)
    epi = users.by_role["epidemiologist"]
    preview = cli("release", "preview", "K5", "--format", "json", user=epi)
    assert preview.exit_code == 0, preview.output
    body = json.loads(preview.stdout)
    for key in ("quasi_identifiers", "k", "records_at_risk", "prosecutor_risk", "average_risk"):
        assert key in body and key in body["proposed"]
    assert body["quasi_identifiers"] == QIS
    assert body["k"] == 1 and body["records_at_risk"] > 1000  # the extract as it stands
    assert body["proposed"]["k"] >= 5
    table = cli("release", "preview", "K5", user=epi)
    assert table.exit_code == 0 and "Nothing was written" in table.stdout
    with session_scope(settings) as s:
        assert audit.query(s, action="release.create") == []
        previews = audit.as_rows(audit.query(s, action="cases.read"))
    assert [p["purpose"] for p in previews] == ["release preview under contract K5"] * 2

    out = tmp_path / "out"
    with context(settings, EPI) as ctx:
        made = create_release(ctx, "K5", out)
    rows, manifest = _read_release(out)
    assert manifest["quasi_identifiers"] == QIS == body["quasi_identifiers"]
    classes = Counter(tuple(r[q] for q in manifest["quasi_identifiers"]) for r in rows)
    assert min(classes.values()) == manifest["k"] >= 5  # read back from the released file
    assert manifest["k"] >= 5 and manifest["records_at_risk"] == 0
    assert manifest["prosecutor_risk"] <= 0.2 and manifest["record_count"] == len(rows)
    info = manifest["disclosure"]
    assert info["before"]["k"] == 1 and info["after"]["k"] == manifest["k"]
    assert set(info["generalisation"]) == set(QIS)
    assert info["suppressed_records"] + len(rows) == 1500
    assert info["suppressed_records"] <= 0.05 * 1500
    assert info["hierarchy"]["name"] == "setagaya"
    with session_scope(settings) as s:
        entry = audit.as_rows(audit.query(s, action="release.create"))[-1]
    assert entry["details"]["k"] == manifest["k"]
    assert entry["details"]["suppressed_records"] == info["suppressed_records"]
    assert set(entry["details"]["generalisation"]) == set(QIS)
    assert made.records == len(rows)
    cover = (out / "cover_sheet_ja.txt").read_text("utf-8")
    assert f"{info['suppressed_records']}件はそのために提供から除いて" in cover
    assert "at least 5 records" in (out / "cover_sheet_en.txt").read_text("utf-8")

    # the outsourcing report states it per release, in both languages
    md = cli("report", "outsourcing", "K5", "--format", "md", user=epi)
    assert md.exit_code == 0, md.output
    print(md.stdout)
    print((out / "cover_sheet_ja.txt").read_text("utf-8"))
    assert "Re-identification risk and anonymisation" in md.stdout
    assert f"Records withheld: {info['suppressed_records']} (limit 5%)" in md.stdout
    assert f"| Smallest class (k) | 1 | {manifest['k']} |" in md.stdout
    from kumin.cases.reports import outsourcing_report

    with context(settings, EPI) as ctx:
        ja = outsourcing_report(ctx, "K5", "md", "ja").decode("utf-8")
        html = outsourcing_report(ctx, "K5", "html", "ja").decode("utf-8")
    assert (
        "再識別リスクの評価と匿名化" in ja
        and f"削除したレコード: {info['suppressed_records']}件" in ja
    )
    assert 'id="disclosure"' in html and f"release:{made.release_id}" in html

    # the same contract again: the same scheme and the same records (pseudonyms aside)
    out2 = tmp_path / "out2"
    with context(settings, EPI) as ctx:
        create_release(ctx, "K5", out2)
    rows2, manifest2 = _read_release(out2)
    assert manifest2["disclosure"]["scheme"] == info["scheme"]
    strip = [{**r, "pseudonym": ""} for r in rows]
    assert strip == [{**r, "pseudonym": ""} for r in rows2]


def _register(records, extra: int, seed: int):
    """The synthetic ward's resident register: the cases' persons and other residents."""
    ward = setagaya_like_ward()
    rng = np.random.default_rng(seed)
    people = [(r.age_band, r.sex, r.nationality, r.town, r.age_years) for r in records]
    bands = list(ward.age_shares)
    shares = np.array(list(ward.age_shares.values()))
    band_i = rng.choice(len(bands), size=extra, p=shares / shares.sum())
    town_i = rng.choice(len(ward.towns), size=extra, p=ward.town_weights())
    for b, t, u, v in zip(band_i, town_i, rng.random(extra), rng.random(extra), strict=True):
        lo = 100 if bands[b] == "100+" else int(bands[b].split("-")[0])
        age = lo + int(u * 10) % 10
        nat = "日本" if v < 0.955 else ("中国", "韓国", "ベトナム", "米国")[int(v * 1000) % 4]
        people.append((bands[b], "male" if u < 0.5 else "female", nat, ward.towns[t].name, age))
    return people


def _unique_links(released: list[tuple], register: list[tuple]) -> int:
    """Released records whose values match exactly one resident of the register."""
    counts = Counter(register)
    return sum(1 for r in released if counts.get(r) == 1)


def test_linkage_with_the_resident_register_finds_no_unique_match(fresh_db, users, tmp_path):
    records = _synthetic_ward(fresh_db, tmp_path, seed=5)
    _contract(fresh_db, "RAW", k=1)
    _contract(fresh_db, "K5", k=5)
    register = _register(records, extra=30_000, seed=5)
    h = load_hierarchies("setagaya")
    demo = ["age_band", "sex", "nationality", "town"]
    found = {}
    for code in ("RAW", "K5"):
        out = tmp_path / code
        with context(fresh_db, EPI) as ctx:
            create_release(ctx, code, out)
        rows, manifest = _read_release(out)
        scheme = manifest["disclosure"]["scheme"]
        # the attacker cuts the register as the manifest says (hierarchies are public)
        cols = {q: [p[i] for p in register] for i, q in enumerate(demo)}
        cut = apply_scheme(cols, demo, h, scheme, 1, ages=[p[4] for p in register]).columns
        reg = [tuple("" if v is None else str(v) for v in vals)
               for vals in zip(*(cut[q] for q in demo), strict=True)]  # fmt: skip
        released = [tuple(r[q] for q in demo) for r in rows]
        found[code] = _unique_links(released, reg)
        # an attacker who knows all of a patient's quasi-identifiers singles out a record
        # exactly when its class over them is of size one
        classes = Counter(tuple(r[q] for q in manifest["quasi_identifiers"]) for r in rows)
        found[code + "_all"] = sum(1 for c in classes.values() if c == 1)
    assert found["RAW"] > 0 and found["RAW_all"] > 1000  # the extract without control
    assert found["K5"] == 0 and found["K5_all"] == 0


def test_contract_rejects_unknown_quasi_identifiers(fresh_db, users):
    data = ContractInput(
        title="t", start=TODAY, end=TODAY, contractors=["A"], items=["年代", "性別"],
        quasi_identifiers=["療養先"],
    )  # fmt: skip
    from kumin.errors import UserError

    with context(fresh_db, EPI) as ctx, pytest.raises(UserError, match="not a released item"):
        add_contract(ctx, data)
    assert disclosure.DEFAULT_K == 5


def test_preview_in_the_json_api(app_client, users, tmp_path):
    settings = app_client.app.state.settings
    _synthetic_ward(settings, tmp_path, n=300)
    _contract(settings, "API", k=3)
    app_client.login(users.by_role["epidemiologist"])
    body = app_client.get("/api/v1/contracts/API/release-preview").json()
    assert body["target_k"] == 3 and body["proposed"]["k"] >= 3
    assert body["records"] == 300 and body["proposed"]["records_at_risk"] == 0
    page = app_client.get("/contracts/API")
    assert page.status_code == 200 and "k = 3" in page.text
    app_client.logout()
    app_client.login(users.by_role["researcher"])
    assert app_client.get("/api/v1/contracts/API/release-preview").status_code == 403
