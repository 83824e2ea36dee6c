"""Contracts, minimised releases, researcher downloads and disposal (both databases)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.cases.conftest import HERSYS_ROWS
from tests.cases.test_store import SECRET_ROWS, SECRETS

from kumin.cases import releases, service
from kumin.cases.contracts import ContractInput, add_contract
from kumin.cases.housekeeping import run_housekeeping
from kumin.cases.models import Release, ReleaseFile, release_dataset
from kumin.core import accounts, audit
from kumin.core.context import context
from kumin.core.db import session_scope
from kumin.core.models import DataKey
from kumin.core.permissions import Actor
from kumin.errors import NotFound

EPI = Actor("u-epidemiologist", "epidemiologist", lang="en")
ITEMS = ["HER-SYS ID", "年代", "性別", "住所（町名まで）", "発病年月日", "結果判明日"]
TODAY = dt.date.today()


def _load(settings, make_hersys_csv) -> None:
    with context(settings, EPI) as ctx:
        service.import_cases(ctx, make_hersys_csv("cases.csv", SECRET_ROWS + HERSYS_ROWS))


def _contract(
    settings, code="C1", items=ITEMS, start=None, end=None, researchers=("u-researcher",)
):
    data = ContractInput(
        code=code,
        title="官学連携研究",
        start=start or TODAY - dt.timedelta(days=10),
        end=end or TODAY + dt.timedelta(days=100),
        contractors=["結核研究所", "滋賀大学"],
        items=list(items),
        researchers=list(researchers),
        persons_from=dt.date(2020, 1, 1),
        persons_to=dt.date(2022, 1, 14),
    )
    with context(settings, EPI) as ctx:
        return add_contract(ctx, data)


def _release(settings, code="C1", out: Path | None = None) -> releases.ReleaseResult:
    with context(settings, EPI) as ctx:
        return releases.create_release(ctx, code, out)


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_release_holds_only_the_contracts_items(cli, users, make_hersys_csv, tmp_path):
    _load(cli.settings, make_hersys_csv)
    epi = users.by_role["epidemiologist"]
    args = ["--code", "R1", "--title", "分析委託", "--start", str(TODAY), "--end", str(TODAY)]
    for c in ("結核研究所", "滋賀大学"):
        args += ["--contractor", c]
    for item in ITEMS:
        args += ["--item", item]
    args += ["--k", "1"]  # no generalisation: the values as minimised (see test_disclosure)
    r = cli("contracts", "add", *args, "--researcher", users.by_role["researcher"], user=epi)
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    r = cli("release", "create", "R1", "--out", str(out), user=epi)
    assert r.exit_code == 0, r.output

    rows = _csv_rows((out / "cases.csv").read_bytes())
    assert list(rows[0]) == ["pseudonym", "age_band", "sex", "town", "onset_date", "result_date"]
    assert len(rows) == 8
    every_file = b"".join(p.read_bytes() for p in out.iterdir()).decode("utf-8-sig")
    for secret in [*SECRETS, "1001", "1002", "１００３"]:
        assert secret not in every_file, secret
    towns = {r["town"] for r in rows}
    assert towns == {"太子堂", "三軒茶屋", "成城", "上北沢", "北沢", "砧公園"}
    assert not any(ch.isdigit() or "丁目" in t for t in towns for ch in t)

    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["record_count"] == 8
    # k = 1 asked for: measured, nothing generalised; every record is unique here
    assert manifest["quasi_identifiers"] == ["age_band", "sex", "town", "onset_date", "result_date"]
    assert manifest["k"] == 1 and manifest["prosecutor_risk"] == 1.0
    assert manifest["disclosure"]["suppressed_records"] == 0
    assert manifest["items"] == ITEMS
    assert manifest["period"] == {"start": str(TODAY), "end": str(TODAY)}
    assert manifest["conditions"] == [
        "purpose_limitation", "no_copying", "disposal_on_completion", "duty_of_care"
    ]  # fmt: skip
    listed = {f["name"]: f["sha256"] for f in manifest["files"]}
    assert set(listed) == {"cases.csv", "cover_sheet_ja.txt", "cover_sheet_en.txt"}
    for name, digest in listed.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert "誓約" in (out / "cover_sheet_ja.txt").read_text("utf-8")
    assert "Pledge" in (out / "cover_sheet_en.txt").read_text("utf-8")
    with session_scope(cli.settings) as s:
        entry = audit.as_rows(audit.query(s, action="release.create"))[-1]
    assert entry["details"]["records"] == 8 and entry["object"] == "release:1"


def test_birth_date_only_when_the_contract_lists_it(fresh_db, users, make_hersys_csv):
    _load(fresh_db, make_hersys_csv)
    _contract(fresh_db, "A", ["HER-SYS ID", "生年月日"])
    _contract(fresh_db, "B", ["HER-SYS ID", "年代"])
    a = _release(fresh_db, "A")
    b = _release(fresh_db, "B")
    assert a.fields == ["pseudonym", "birth_date", "age_band"]
    assert b.fields == ["pseudonym", "age_band"]


def _download(settings, name: str, release_id: int) -> bytes:
    with context(settings, Actor(name, "researcher", lang="en")) as ctx:
        return releases.download_file(ctx, release_id)[0]


def test_pseudonyms_differ_across_releases_and_hold_within_one(fresh_db, users, make_hersys_csv):
    _load(fresh_db, make_hersys_csv)
    _contract(fresh_db)
    first = _csv_rows(_download(fresh_db, "u-researcher", _release(fresh_db).release_id))
    second = _csv_rows(_download(fresh_db, "u-researcher", _release(fresh_db).release_id))
    p1 = [r["pseudonym"] for r in first]
    p2 = [r["pseudonym"] for r in second]
    assert len(set(p1)) == len(p1) == 8
    assert not set(p1) & set(p2)
    # the same person, the same order: everything but the pseudonym is equal
    assert [{**r, "pseudonym": ""} for r in first] == [{**r, "pseudonym": ""} for r in second]


def test_researcher_downloads_in_the_web_until_disposal(
    app_client, users, make_hersys_csv, tmp_path
):
    settings = app_client.app.state.settings
    _load(settings, make_hersys_csv)
    _contract(settings)
    made = _release(settings, out=tmp_path / "out")
    app_client.login(users.by_role["researcher"])
    listing = app_client.get("/releases")
    assert (
        listing.status_code == 200
        and f"/releases/{made.release_id}/files/cases.csv" in listing.text
    )
    got = app_client.get(f"/releases/{made.release_id}/files/cases.csv")
    assert got.status_code == 200
    assert got.content == (tmp_path / "out" / "cases.csv").read_bytes()
    api = app_client.get(f"/api/v1/releases/{made.release_id}/files/manifest.json")
    assert api.status_code == 200 and api.json()["record_count"] == 8
    with session_scope(settings) as s:
        downloads = audit.as_rows(audit.query(s, action="release.download"))
    assert [d["details"]["file"] for d in downloads] == ["cases.csv", "manifest.json"]

    with session_scope(settings) as s:  # a token kept from before: it must not decrypt after
        kept = s.scalar(select(ReleaseFile.content).where(ReleaseFile.name == "cases.csv"))
    with context(settings, EPI) as ctx:
        done = releases.dispose_contract(ctx, "C1")
    refused = app_client.get(f"/releases/{made.release_id}/files/cases.csv")
    assert refused.status_code == 403
    assert not any((tmp_path / "out").iterdir())  # the --out copies are gone
    with session_scope(settings) as s:
        key = s.scalar(select(DataKey).where(DataKey.dataset == release_dataset(made.release_id)))
        assert key.wrapped is None and key.destroyed_at is not None
        assert s.scalars(select(ReleaseFile.content)).all() == [None] * 4
        assert s.get(Release, made.release_id).disposed_at is not None
        denied = audit.as_rows(audit.query(s, action="release.download"))[-1]
        disposal = audit.as_rows(audit.query(s, action="release.dispose"))
    assert denied["outcome"] == "denied"
    assert disposal[0]["details"]["certificate"] == done["certificate"]
    with context(settings, EPI) as ctx, pytest.raises(NotFound):
        ctx.keyring.decrypt(release_dataset(made.release_id), kept)
    app_client.logout()
    app_client.login(users.by_role["auditor"])
    pdf = app_client.get(f"/disposals/{done['disposal_id']}?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    html = app_client.get(f"/disposals/{done['disposal_id']}?format=html").text
    assert "データ消去証明書" in html and done["certificate"] in html


def test_downloads_refused_outside_the_period_and_to_others(fresh_db, users, make_hersys_csv):
    _load(fresh_db, make_hersys_csv)
    with context(fresh_db, Actor("u-admin", "admin")) as ctx:
        accounts.add_user(ctx, "other-researcher", "researcher", "other-password-123")
    _contract(
        fresh_db, "LATER", start=TODAY + dt.timedelta(days=1), end=TODAY + dt.timedelta(days=9)
    )
    made = _release(fresh_db, "LATER")
    from kumin.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="contract period"):
        _download(fresh_db, "u-researcher", made.release_id)
    with pytest.raises(PermissionDenied, match="not named"):
        _download(fresh_db, "other-researcher", made.release_id)
    with session_scope(fresh_db) as s:
        refusals = audit.as_rows(audit.query(s, action="release.download"))
    assert [r["outcome"] for r in refusals] == ["denied", "denied"]
    assert [r["details"]["reason"] for r in refusals] == ["outside_period", "not_named"]


def test_housekeeping_disposes_after_the_end_date(fresh_db, users, make_hersys_csv):
    _load(fresh_db, make_hersys_csv)
    end = TODAY + dt.timedelta(days=5)
    _contract(fresh_db, end=end)
    made = _release(fresh_db)
    assert run_housekeeping(fresh_db, today=end)["disposed"] == []  # the last day still counts
    done = run_housekeeping(fresh_db, today=end + dt.timedelta(days=1))["disposed"]
    assert [d["releases"] for d in done] == [[made.release_id]]
    assert done[0]["reason"] == "expired"
    assert run_housekeeping(fresh_db, today=end + dt.timedelta(days=2))["disposed"] == []
    with session_scope(fresh_db) as s:
        entries = audit.as_rows(audit.query(s, action="release.dispose"))
    assert entries[0]["actor"] == "system" and entries[0]["details"]["reason"] == "expired"


def test_certificate_from_the_cli(cli, users, make_hersys_csv, tmp_path):
    _load(cli.settings, make_hersys_csv)
    _contract(cli.settings)
    epi = users.by_role["epidemiologist"]
    out = tmp_path / "cert.html"
    r = cli("release", "certificate", "C1", "--out", str(out), "--format", "html", user=epi)
    assert r.exit_code == 1 and "not been disposed" in r.stderr
    assert cli("release", "dispose", "C1", user=epi).exit_code == 0
    again = cli("release", "dispose", "C1", user=epi)
    assert again.exit_code == 1 and "already" in again.stderr
    r = cli(
        "release",
        "certificate",
        "C1",
        "--out",
        str(out),
        "--format",
        "html",
        user=users.by_role["auditor"],
    )
    assert r.exit_code == 0, r.output
    assert "データ消去証明書" in out.read_text("utf-8")


def test_outsourcing_report_counts_from_the_data(cli, users, make_hersys_csv, tmp_path):
    _load(cli.settings, make_hersys_csv)
    _contract(cli.settings)
    epi = users.by_role["epidemiologist"]
    md = cli("report", "outsourcing", "C1", "--format", "md", user=epi)
    assert md.exit_code == 0, md.output
    for n in range(1, 11):
        assert f"## {n} " in md.stdout
    assert "8 records" in md.stdout and "滋賀大学" in md.stdout
    out = tmp_path / "r.pdf"
    pdf = cli(
        "report",
        "outsourcing",
        "C1",
        "--format",
        "pdf",
        "--out",
        str(out),
        user=users.by_role["auditor"],
    )
    assert pdf.exit_code == 0, pdf.output
    assert out.read_bytes().startswith(b"%PDF")


def test_web_pages_behind_the_right_roles(app_client, users, make_hersys_csv):
    settings = app_client.app.state.settings
    _load(settings, make_hersys_csv)
    _contract(settings)
    _release(settings)
    app_client.login(users.by_role["epidemiologist"])
    summary = app_client.get("/cases")
    assert summary.status_code == 200 and 'id="suppressed-note"' in summary.text
    assert app_client.get("/api/v1/cases/summary").json()["total"] == 8
    detail = app_client.get("/contracts/C1")
    assert detail.status_code == 200 and "release.create" in detail.text  # audit history
    rows = list(HERSYS_ROWS)
    rows[1] = rows[1].replace("2021/8/5,2021/8/5", "2021/2/30,2021/8/5")
    rows[3] = rows[3].replace("女性", "おんな")
    rows[5] = "," + rows[5].split(",", 1)[1]
    body = ("HER-SYS ID,生年月日,年代,性別,国籍,居住地,住所（町名まで）,発病年月日,初診年月日,"
            "検体採取日,結果判明日,症状,ワクチン接種歴,療養先\r\n" + "\r\n".join(rows)).encode("cp932")  # fmt: skip
    r = app_client.post(
        "/cases/import",
        data={"csrf": app_client.csrf(), "profile": "hersys"},
        files={"file": ("bad.csv", body, "text/csv")},
    )
    assert r.status_code == 400
    for line in (3, 5, 7):
        assert f'<td class="num">{line}</td>' in r.text
    app_client.logout()
    app_client.login(users.by_role["researcher"])
    assert app_client.get("/contracts").status_code == 403
    assert app_client.get("/cases").status_code == 403
    app_client.logout()
    app_client.login(users.by_role["auditor"])
    assert app_client.get("/contracts/C1").status_code == 200
    assert app_client.get("/api/v1/releases").json()[0]["records"] == 8
