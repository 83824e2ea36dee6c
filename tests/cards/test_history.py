"""The ward's card history from its card-management system's export: kumin's codes
or Japanese ones, era dates, .xlsx, unknown values named by file, line and value."""

from __future__ import annotations

import datetime as dt

import openpyxl
import polars as pl
import pytest

from kumin.cards.figures import security_figures
from kumin.cards.history import load_history_profile, read_history, write_history
from kumin.cards.records import CardRecords, inquiry_functions
from kumin.errors import DataError, NotFound
from kumin.synth.cards import NOT_ITEMISED, synthetic_card_records


@pytest.fixture(scope="module")
def part() -> CardRecords:
    """A twentieth of the synthetic ward (every figure of it still computable)."""
    full = synthetic_card_records(seed=2)
    cards = full.cards.filter(pl.col("card_id") % 20 == 0)
    keep = cards.select("card_id")
    return CardRecords(
        cards=cards,
        card_events=full.card_events.join(keep, on="card_id", how="semi"),
        certificates=full.certificates.join(keep, on="card_id", how="semi"),
        juki_transactions=full.juki_transactions.gather_every(20),
        inquiries=full.inquiries.filter(pl.col("function") != NOT_ITEMISED.code).gather_every(20),
        population=full.population,
    ).conformed()


@pytest.mark.parametrize("japanese", [False, True])
def test_a_written_history_reads_back_unchanged(part, tmp_path, japanese):
    write_history(part, tmp_path, japanese=japanese)
    back = read_history(tmp_path)
    for name in part.row_counts():
        assert getattr(back, name).equals(getattr(part, name)), name


def test_the_japanese_export_really_is_japanese(part, tmp_path):
    write_history(part, tmp_path, japanese=True)
    head = (tmp_path / "cards.csv").read_text(encoding="utf-8-sig").splitlines()[:2]
    assert head[0].startswith("カード番号,住民番号,取得区分,交付方式")
    assert "令和" in (tmp_path / "certificates.csv").read_text(encoding="utf-8-sig")
    events = pl.read_csv(tmp_path / "card_events.csv")
    assert set(events["異動事由"]) <= {"継続利用", "一時停止", "一時停止解除", "廃止", "転出"}


def _cards(tmp_path, rows, header="card_id,resident_no,origin,method,channel,applied_on"):
    (tmp_path / "cards.csv").write_text(header + "\n" + "".join(r + "\n" for r in rows), "cp932")


def test_japanese_values_and_era_dates_in_cp932(tmp_path):
    _cards(
        tmp_path,
        [
            "1,100,新規,交付時来庁方式,郵送,令和3年4月1日",
            "2,101,継続利用,,,",
            "3,102,issued_here,申,WEB,R3.4.2",
        ],
        header="カード番号,住民番号,取得区分,交付方式,申請方法,申請日",
    )
    cards = read_history(tmp_path).cards
    assert cards["origin"].to_list() == ["issued_here", "moved_in", "issued_here"]
    assert cards["method"].to_list() == ["visit_at_issuance", None, "visit_at_application"]
    assert cards["applied_on"].to_list() == [dt.date(2021, 4, 1), None, dt.date(2021, 4, 2)]


def test_unknown_values_are_named_by_file_line_column_and_value(tmp_path):
    _cards(
        tmp_path, ["1,100,issued_here,交付時来庁方式,伝書鳩,2021-04-01", "2,101,謎,,,2021-04-02"]
    )
    (tmp_path / "card_events.csv").write_text(
        "card_id,date,event,reason\n1,2021-05-01,廃止,死亡\n1,令和3年13月1日,失効,\n", "utf-8"
    )
    with pytest.raises(DataError) as err:
        read_history(tmp_path)
    found = {
        (p.params["file"], p.line, p.column, p.params.get("value")) for p in err.value.problems
    }
    assert found == {
        ("cards.csv", 2, "channel", "伝書鳩"),
        ("cards.csv", 3, "origin", "謎"),
        ("card_events.csv", 3, "date", "令和3年13月1日"),
        ("card_events.csv", 3, "event", "失効"),
    }
    message = next(p for p in err.value.problems if p.column == "channel").render("ja")
    assert "伝書鳩" in message and "mail" in message and "cards.csv" in message


def test_a_missing_cards_file_or_column_or_value_is_an_error(tmp_path):
    with pytest.raises(DataError) as err:
        read_history(tmp_path)
    assert err.value.problems[0].key == "cards.history.missing_file"
    _cards(tmp_path, ["1,,issued_here"], header="card_id,resident_no,origin")
    with pytest.raises(DataError) as err:
        read_history(tmp_path)
    assert [(p.line, p.column, p.key) for p in err.value.problems] == [
        (2, "resident_no", "cards.history.missing_value")
    ]
    _cards(tmp_path, ["1,issued_here"], header="card_id,origin")
    with pytest.raises(DataError) as err:
        read_history(tmp_path)
    assert [(p.line, p.column) for p in err.value.problems] == [(1, "resident_no")]


def test_records_that_disagree_are_refused(tmp_path):
    _cards(tmp_path, ["1,100,issued_here,visit_at_issuance,mail,2021-04-01"])
    (tmp_path / "certificates.csv").write_text(
        "card_id,date,cert_type,action\n9,2021-05-01,署名用,新規\n", "utf-8"
    )
    with pytest.raises(DataError) as err:
        read_history(tmp_path)
    assert [p.key for p in err.value.problems] == ["cards.records.unknown_card"]


def test_xlsx_files_with_date_cells(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["カード番号", "住民番号", "取得区分", "申請日", "交付日"])
    sheet.append([1, 100, "新規", dt.datetime(2021, 4, 1), "R3.5.6"])
    book.save(tmp_path / "cards.xlsx")
    cards = read_history(tmp_path).cards
    assert cards.select("card_id", "applied_on", "issued_on").row(0) == (
        1,
        dt.date(2021, 4, 1),
        dt.date(2021, 5, 6),
    )


def test_profiles_by_name_from_the_profile_folder_only(tmp_path, monkeypatch):
    for bad in ("../x", "/etc/passwd", "nope"):
        with pytest.raises(NotFound):
            load_history_profile(bad)
    (tmp_path / "ward.toml").write_text(
        'domain = "cards"\nkind = "history"\n[values.channel]\nmail = ["郵便局"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KUMIN_PROFILE_DIR", str(tmp_path))
    assert load_history_profile("ward").values["channel"]["郵便局"] == "mail"


def test_cli_synth_then_history_import_reproduces_the_figures(cli, users, part, tmp_path):
    """A fresh installation loaded from a history export computes the same yearly
    figures as the records themselves (the full ward: tests/cards/test_report_db.py)."""
    write_history(part, tmp_path / "history", japanese=True)
    officer = users.by_role["records_officer"]
    r = cli("cards", "history", "import", str(tmp_path / "history"), user=officer)
    assert r.exit_code == 0, r.stderr
    assert f"{part.cards.height}" in r.stdout
    # a second import of the same cards is refused whole, nothing doubles
    r = cli("cards", "history", "import", str(tmp_path / "history"), user=officer)
    assert r.exit_code == 1
    from kumin.cards.report import card_figures
    from kumin.core.context import context
    from kumin.core.permissions import Actor

    with context(cli.settings, Actor(officer, "records_officer")) as ctx:
        got = card_figures(ctx, 2021).to_dict()
    assert got == security_figures(part, 2021, inquiry_functions()).to_dict()


def test_move_in_and_move_out_from_daily_work(cli, users, app_client):
    """継続利用 (a card from elsewhere stays in use) and 転出, on the CLI and the web,
    counted by the yearly figures as the report counts them."""
    from kumin.cards.report import card_figures
    from kumin.core.context import context
    from kumin.core.permissions import Actor

    officer = users.by_role["records_officer"]
    for number in ("701", "702"):
        assert (
            cli("cards", "residents", "add", number, "--name", "試験", user=officer).exit_code == 0
        )
    r = cli("cards", "move-in", "701", "--on", "2021-06-01", "--from", "13101", user=officer)
    assert r.exit_code == 0, r.stderr
    r = cli("cards", "move-in", "999", user=officer)
    assert r.exit_code == 1  # no such resident
    app_client.login(officer)
    csrf = app_client.csrf()
    r = app_client.post(
        "/cards/move-in", data={"csrf": csrf, "resident_no": "702", "on": "2021-07-01"}
    )
    assert r.status_code == 303
    card = int(r.headers["location"].rsplit("/", 1)[1])
    page = app_client.get(f"/cards/{card}").text
    assert "転入（継続利用）" in page and 'id="state-move_out"' in page
    r = app_client.post(f"/cards/{card}/state/move_out", data={"csrf": csrf, "on": "2021-09-01"})
    assert r.status_code in (200, 303)
    r = cli("cards", "move-out", str(card), "--on", "2021-10-01", user=officer)
    assert r.exit_code == 1  # already moved out
    with context(cli.settings, Actor(officer, "records_officer")) as ctx:
        figures = card_figures(ctx, 2021).to_dict()
    juki = {row["kind"]: row for row in figures["juki"]}
    assert juki["continued_use"]["fy"] == 2  # FY2021: both move-ins
    # on 2022-04-01 the card that stayed is valid, the one that moved out is not
    assert (figures["status_end"]["valid"], figures["status_end"]["operating"]) == (1, 1)


def test_cli_synth_cards_writes_a_history_folder_without_an_account(cli, tmp_path):
    r = cli("synth", "cards", "--out", str(tmp_path / "h"), "--japanese")
    assert r.exit_code == 0, r.stderr
    names = sorted(p.name for p in (tmp_path / "h").iterdir())
    assert names == [
        f"{n}.csv"
        for n in sorted(
            ("cards", "card_events", "certificates", "juki_transactions", "inquiries", "population")
        )
    ]
    head = (tmp_path / "h" / "cards.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert head.startswith("カード番号")
