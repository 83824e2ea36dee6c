"""Bounded uploads and hostile files (issue 10, items 7 and 9).

Every importer is fed truncated, binary, NUL-filled, mis-encoded, bit-flipped files
and files with huge lines and fields: each ends in a clean import or a clear
one-line error naming the file, never an internal error, and a rejected file
changes nothing in the database.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, table
from tests.juki._helpers import small_ward

from kumin.core import tabular
from kumin.core.db import get_engine, session_scope
from kumin.core.permissions import PERMISSIONS
from kumin.errors import DataError

# command -> (extra arguments after the file, action); the file goes first
IMPORTERS: dict[str, tuple[list[str], str]] = {
    "cases import": ([], "cases.import"),
    "calls import": ([], "calls.manage"),
    "continuity import": ([], "continuity.manage"),
    "cards windows import": ([], "cards.manage"),
    "cards juki-import": ([], "cards.manage"),
    "cards inquiries-import": ([], "cards.manage"),
    "cards population-import": ([], "cards.manage"),
    "juki departments import": ([], "juki.manage"),
    "juki terminals import": ([], "juki.manage"),
    "juki ledger import": (["--department", "D08", "--effective", "2021-04-01"], "juki.department"),
    "juki applications import": ([], "juki.manage"),
    "juki reservations import": ([], "juki.department"),
    "juki usage import": ([], "juki.department"),
    "juki records import": ([], "juki.department"),
    "juki checklist import": ([], "juki.department"),
    "juki watchlist import": ([], "juki.manage"),
    "oplog import": ([], "oplog.import"),
}


def _xlsx_bytes() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["timestamp", "terminal_id", "operator_id", "action", "subject", "function"])
    for i in range(30):
        sheet.append([f"2021-04-05 09:{i:02d}:00", "T01", "U001", "view", f"R{i}", "住民税"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _flip(data: bytes, seed: int, flips: int = 12) -> bytes:
    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(flips):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def _corpus() -> dict[str, bytes]:
    rng = random.Random(10)
    csv_text = "timestamp,terminal_id,operator_id,action,subject,function\r\n" + "".join(
        f"2021-04-05 09:{i:02d}:00,T01,U001,view,R{i},住民税\r\n" for i in range(30)
    )
    xlsx = _xlsx_bytes()
    return {
        "empty.csv": b"",
        "binary.csv": rng.randbytes(4096),
        "nul.csv": b"\0" * 4096,
        "utf16.csv": csv_text.encode("utf-16"),
        "latin1.csv": b"a,b\r\n\xe9\xff\xfe\x80,1\r\n",
        "truncated.csv": csv_text.encode("cp932")[: len(csv_text) // 2 + 1],
        "bitflip.csv": _flip(csv_text.encode("utf-8"), 1),
        "huge_line.csv": b"a,b\r\n" + b"x" * (3 << 20) + b"\r\n",
        "huge_field.csv": b'a,b\r\n"' + b"y" * (200 << 10) + b'",1\r\n',
        "open_quote.csv": b'a,b\r\n"never closed,1\r\n' + b"z,2\r\n" * 50,
        "truncated.xlsx": xlsx[: len(xlsx) // 2],
        "bitflip.xlsx": _flip(xlsx, 2, 40),
        "html.xlsx": b"<html><body>Error 500</body></html>",
    }


def _counts(settings) -> dict[str, int]:
    """Rows per table, except what signing in itself writes."""
    engine = get_engine(settings)
    names = [
        n
        for n in inspect(engine).get_table_names()
        if n not in ("audit_log", "audit_head", "web_sessions", "api_tokens", "users")
        and not n.startswith("alembic")
    ]
    with session_scope(settings) as s:
        return {n: s.scalar(select(func.count()).select_from(table(n))) for n in names}


def _role_for(action: str) -> str:
    roles = PERMISSIONS[action].roles
    for role in ("records_officer", "epidemiologist", "auditor", "admin", "terminal_manager"):
        if role in roles:
            return role
    raise AssertionError(action)


@pytest.fixture
def sqlite_cli(sqlite_db, tmp_path, monkeypatch):
    from tests.conftest import Cli, make_users

    return Cli(sqlite_db, tmp_path / "home", monkeypatch), make_users(sqlite_db)


def test_every_importer_survives_hostile_files(sqlite_cli, tmp_path):
    cli, accounts = sqlite_cli
    corpus = _corpus()
    folder = tmp_path / "files"
    folder.mkdir()
    for name, data in corpus.items():
        (folder / name).write_bytes(data)
    small_ward(cli.settings, tmp_path)  # departments and terminals the juki imports refer to
    before = _counts(cli.settings)
    outcomes: dict[str, list[str]] = {}
    for command, (extra, action) in IMPORTERS.items():
        user = accounts.by_role[_role_for(action)]
        for name in corpus:
            r = cli(*command.split(), str(folder / name), *extra, user=user)
            where = f"{command} {name}"
            assert r.exit_code in (0, 1), f"{where}: exit {r.exit_code}\n{r.output[:500]}"
            assert "Internal error" not in r.output, f"{where}: {r.output[:500]}"
            assert "Traceback" not in r.output, where
            if r.exit_code == 1:
                first = r.stderr.strip().splitlines()[0]
                assert len(first) < 600, f"{where}: error line of {len(first)} chars"
                outcomes.setdefault(command, []).append(name)
                # the kinds that can never be a valid table name the file
                if name in ("nul.csv", "huge_line.csv", "html.xlsx", "utf16.csv"):
                    assert name in r.stderr, f"{where}: {r.stderr[:300]}"
                assert _counts(cli.settings) == before, f"{where} changed the database"
            else:
                before = _counts(cli.settings)
    # every importer refused at least the files that cannot be a table
    for command in IMPORTERS:
        assert {"nul.csv", "huge_line.csv", "binary.csv"} <= set(outcomes.get(command, [])), command


def test_nul_file_and_long_line_are_named_early(tmp_path):
    nul = tmp_path / "売上.csv"
    nul.write_bytes(b"a,b\n1,2\n" + b"\0" * 100)
    with pytest.raises(DataError) as exc:
        tabular.read_table(nul)
    assert exc.value.key == "core.tabular_limits.binary"
    assert "売上.csv" in exc.value.render("en") and "line 3" in exc.value.render("en")
    long = tmp_path / "long.csv"
    long.write_bytes(b"a,b\n1,2\n3," + b"9" * (tabular.MAX_LINE_BYTES + 1) + b"\n")
    with pytest.raises(DataError) as exc:
        tabular.read_table(long)
    assert exc.value.key == "core.tabular_limits.line_too_long"
    assert "line 3" in exc.value.render("en")
    # a line exactly at the cap, split across read chunks, is still accepted
    edge = tmp_path / "edge.csv"
    edge.write_bytes(b"a\n" + b"7" * (tabular.MAX_LINE_BYTES - 1) + b"\n")
    tabular.check_file(edge)


def test_ten_megabyte_line_in_an_operation_log_is_refused_with_a_short_message(sqlite_cli):
    """One 10 MB line once cost minutes (the error echoed it whole); now a short error."""
    cli, accounts = sqlite_cli
    path = cli.settings.key_file.parent / "log.csv"
    header = b"timestamp,terminal_id,operator_id,action,subject,function\n"
    path.write_bytes(header + b"x" * (10 << 20) + b",T01,U001,view,R1,f\n")
    r = cli("oplog", "import", str(path), user=accounts.by_role["auditor"])
    assert r.exit_code == 1
    assert "log.csv" in r.stderr and "line 2" in r.stderr
    assert len(r.output) < 1000


def test_long_values_in_messages_are_clipped():
    err = DataError("oplog.import.bad_timestamp", value="x" * 1_000_000)
    assert len(err.render("en")) < 400


def test_xlsx_zip_bomb_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "MAX_XLSX_UNCOMPRESSED", 1 << 20)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as fh:
            for _ in range(8):
                fh.write(b"\0" * (1 << 20))
    assert bomb.stat().st_size < 100_000

    def never(*_a, **_k):
        raise AssertionError("openpyxl must not be reached")

    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    with pytest.raises(DataError) as exc:
        tabular.read_table(bomb)
    assert exc.value.key == "core.tabular_limits.xlsx_too_large"
    assert "bomb.xlsx" in exc.value.render("en")


def test_upload_limit_answers_413_with_a_clear_message(fresh_db):
    from anyio.from_thread import start_blocking_portal
    from tests.conftest import WebClient, make_users

    from kumin.web.app import create_app

    settings = fresh_db.with_(upload_limit_mb=1)
    accounts = make_users(settings)
    with start_blocking_portal() as portal:
        client = WebClient(create_app(settings), portal)
        try:
            client.login(accounts.by_role["auditor"])
            csrf = client.csrf()
            big = b"timestamp,terminal_id\n" + b"x" * (2 << 20)
            r = client.post(
                "/oplog/files",
                files={"file": ("big.csv", big, "text/csv")},
                headers={"X-CSRF-Token": csrf},
            )
            assert r.status_code == 413
            assert "1 MB" in r.text and "KUMIN_UPLOAD_LIMIT_MB" in r.text
            r = client.post(
                "/api/v1/cases/import",
                files={"file": ("big.csv", big, "text/csv")},
                headers={"X-CSRF-Token": csrf},
            )
            assert r.status_code in (403, 413)
        finally:
            portal.call(client._client.aclose)


def test_uploaded_file_keeps_its_name_in_errors(app_client, users):
    """A NUL-filled upload answers 400 naming the file sent, not a temporary file."""
    app_client.login(users.by_role["auditor"])
    csrf = app_client.csrf()
    r = app_client.post(
        "/oplog/files",
        files={"file": ("terminal-log.csv", b"\0" * 5000, "text/csv")},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 400, r.text[:300]
    assert "terminal-log.csv" in r.text
    assert "kumin-" not in r.text and "/tmp" not in r.text
    long = b"timestamp,terminal_id,operator_id,action\n" + b"9" * (3 << 20) + b",T,U,view\n"
    r = app_client.post(
        "/api/v1/cases/import",
        files={"file": ("届出.csv", long, "text/csv")},
        data={"profile": "hersys"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code in (400, 403), r.text[:300]  # the auditor may not import cases
    app_client.logout()
    app_client.login(users.by_role["epidemiologist"])
    r = app_client.post(
        "/api/v1/cases/import",
        files={"file": ("届出.csv", long, "text/csv")},
        data={"profile": "hersys"},
        headers={"X-CSRF-Token": app_client.csrf()},
    )
    assert r.status_code == 400, r.text[:300]
    message = r.json()["error"]["message"]
    assert "届出.csv" in message and "kumin-" not in message
    r = app_client.post(
        "/api/v1/cases/import",
        files={"file": ("a.csv", b"x", "text/csv")},
        data={"profile": "/etc/passwd"},
        headers={"X-CSRF-Token": app_client.csrf()},
    )
    assert r.status_code == 404 and "passwd" in r.text


def test_safe_upload_names():
    from kumin.core.uploads import safe_name

    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\x\\売上.xlsx") == "売上.xlsx"
    assert safe_name("a\x00b\nc.csv") == "a_b_c.csv"
    assert safe_name("") == "upload.csv"
    assert safe_name("x" * 300 + ".xlsx").endswith(".xlsx")


def test_profile_is_a_name_never_a_path(tmp_path):
    from kumin.cases.profiles import load_profile
    from kumin.errors import NotFound

    outside = tmp_path / "evil.toml"
    outside.write_text(
        (Path(__file__).parents[2] / "src/kumin/cases/profiles/hersys.toml").read_text("utf-8")
    )
    for name in (str(outside), "../profiles/hersys", "/etc/passwd", "hersys.toml"):
        with pytest.raises(NotFound):
            load_profile(name)
    assert load_profile("hersys").name == "hersys"


def test_sqlite_files_are_private(tmp_path):
    import stat

    from kumin.core.config import Settings
    from kumin.core.db import dispose_engine
    from kumin.core.setup import initialise

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'kumin.db'}", key_file=tmp_path / "kumin.key"
    )
    initialise(settings)
    with session_scope(settings) as s:
        s.execute(select(1))
        for suffix in ("", "-wal", "-shm"):
            path = tmp_path / f"kumin.db{suffix}"
            if path.exists():
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, suffix
    assert (tmp_path / "kumin.db-wal").exists()
    dispose_engine(settings)


def test_out_to_a_device_or_fifo_is_written_not_replaced(tmp_path):
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    tabular.write_output(fifo, b"a,b\r\n")
    reader.join(10)
    assert got == [b"a,b\r\n"]
    assert fifo.is_fifo()
    null = Path("/dev/null")
    tabular.atomic_write_bytes(null, b"x")
    assert null.is_char_device()


def test_out_dash_means_standard_output(cli, users):
    r = cli("audit", "show", "--format", "csv", "--out", "-", user=users.by_role["auditor"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("seq,ts,actor")
    assert not Path("-").exists()


def test_markdown_report_escapes_contract_fields(cli, users):
    epi = users.by_role["epidemiologist"]
    args = ["--code", "M1", "--title", "<script>alert(1)</script>", "--start", "2026-01-01"]
    args += ["--end", "2026-12-31", "--contractor", '<img src=x onerror="alert(2)">']
    args += ["--item", "年代", "--purpose", "<b>raw</b>"]
    assert cli("contracts", "add", *args, user=epi).exit_code == 0
    md = cli("report", "outsourcing", "M1", "--format", "md", user=epi)
    assert md.exit_code == 0, md.output
    assert "<script>" not in md.stdout and "<img" not in md.stdout and "<b>" not in md.stdout
    assert "&lt;script&gt;" in md.stdout
