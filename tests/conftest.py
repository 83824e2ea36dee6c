"""Fixtures shared by the whole suite.

- ``fresh_db``: Settings for a new, migrated database with its own key file —
  once on SQLite and once on PostgreSQL (127.0.0.1:5432, trust auth, database
  ``test``). Where PostgreSQL is unreachable the PostgreSQL half is skipped and
  the summary says so; with KUMIN_REQUIRE_PG=1 (as .ci/run sets) it fails instead.
- ``users``: one account per role on ``fresh_db`` (password ``PASSWORD``).
- ``app_client``: the web app in-process through ``httpx.ASGITransport``.
- ``cli``: runs ``kumin ...`` in-process against ``fresh_db``.
- ``shared_data``: ../shared/data, or a skip with a clear message.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kumin.core.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get(
    "KUMIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "test-password-123"


def shared_data_dir() -> Path | None:
    explicit = os.environ.get("KUMIN_SHARED_DATA")
    path = Path(explicit) if explicit else REPO_ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data (real public data) is not beside this clone")
    return path


# --- databases --------------------------------------------------------------------------

_PG_STATE: dict[str, object] = {}


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    if "reason" not in _PG_STATE:
        try:
            import psycopg

            with psycopg.connect(_plain_pg(PG_ADMIN_URL), connect_timeout=3):
                pass
            _PG_STATE["reason"] = None
        except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
            _PG_STATE["reason"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return _PG_STATE["reason"]  # type: ignore[return-value]


def _plain_pg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _pg_exec(sql: str) -> None:
    import psycopg

    with psycopg.connect(_plain_pg(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(sql)


def _with_db(url: str, name: str) -> str:
    return re.sub(r"/[^/]*$", f"/{name}", url)


def _initialise(settings: Settings) -> None:
    from kumin.core.db import session_scope
    from kumin.core.installation import store_policy
    from kumin.core.setup import initialise

    initialise(settings)
    # Most tests sign in with a password only; tests of 2FA turn the policy back on
    # (set_require_2fa below). The policy lives in the database, as in production.
    with session_scope(settings) as s:
        store_policy(s, require_2fa=False)


@pytest.fixture(scope="session")
def _templates(tmp_path_factory) -> Iterator[dict[str, Settings]]:
    """One migrated template database per backend, copied for every test."""
    from kumin.core.db import dispose_engine

    made: dict[str, Settings] = {}
    folder = tmp_path_factory.mktemp("template")
    sqlite = Settings(
        database_url=f"sqlite:///{folder / 'template.db'}",
        key_file=folder / "template.key",
    )
    _initialise(sqlite)
    dispose_engine(sqlite)
    made["sqlite"] = sqlite
    if _pg_available() is None:
        name = f"kumin_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        _pg_exec(f'CREATE DATABASE "{name}"')
        pg = Settings(
            database_url=_with_db(PG_ADMIN_URL, name),
            key_file=folder / "template.key",
        )
        _initialise(pg)
        dispose_engine(pg)
        made["postgresql"] = pg
    yield made
    if "postgresql" in made:
        _pg_exec(f'DROP DATABASE IF EXISTS "{made["postgresql"].database_url.rsplit("/", 1)[1]}"')


def _new_db(kind: str, templates: dict[str, Settings], tmp_path: Path) -> Iterator[Settings]:
    from kumin.core.db import dispose_engine

    key_file = tmp_path / "kumin.key"
    shutil.copy(templates["sqlite"].key_file, key_file)
    os.chmod(key_file, 0o600)
    if kind == "sqlite":
        src = Path(templates["sqlite"].database_url.removeprefix("sqlite:///"))
        dst = tmp_path / "kumin.db"
        shutil.copy(src, dst)
        settings = Settings(database_url=f"sqlite:///{dst}", key_file=key_file)
        yield settings
        dispose_engine(settings)
        return
    if "postgresql" not in templates:
        reason = _pg_available()
        if os.environ.get("KUMIN_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL is required (KUMIN_REQUIRE_PG=1) but unreachable: {reason}")
        pytest.skip(f"PostgreSQL half skipped: not reachable at 127.0.0.1:5432 ({reason})")
    template = templates["postgresql"].database_url.rsplit("/", 1)[1]
    name = f"kumin_t_{uuid.uuid4().hex[:12]}"
    _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    settings = Settings(database_url=_with_db(PG_ADMIN_URL, name), key_file=key_file)
    try:
        yield settings
    finally:
        dispose_engine(settings)
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_db(request, _templates, tmp_path) -> Iterator[Settings]:
    """A new migrated database (SQLite, then PostgreSQL) with its own key file."""
    yield from _new_db(request.param, _templates, tmp_path)


@pytest.fixture
def sqlite_db(_templates, tmp_path) -> Iterator[Settings]:
    """A new migrated SQLite database, for tests where the backend does not matter."""
    yield from _new_db("sqlite", _templates, tmp_path)


def pytest_terminal_summary(terminalreporter) -> None:
    reason = _pg_available()
    if reason:
        terminalreporter.write_line(
            f"NOTE: the PostgreSQL half of the storage tests was SKIPPED ({reason}).",
            yellow=True,
        )
    else:
        terminalreporter.write_line("PostgreSQL half of the storage tests ran.", green=True)


# --- accounts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Accounts:
    settings: Settings
    by_role: dict[str, str]
    password: str = PASSWORD


_PASSWORD_HASH: list[str] = []


def make_users(settings: Settings, department: str = "課税課") -> Accounts:
    """One account per role, password :data:`PASSWORD`.

    The accounts service itself is tested in tests/core; here the Argon2 hash is
    computed once per process, which keeps the many tests that need accounts fast.
    """
    from kumin.core import accounts, audit
    from kumin.core.db import session_scope
    from kumin.core.models import User
    from kumin.core.permissions import ROLES

    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(accounts.hash_password(PASSWORD))
    names = {}
    with session_scope(settings) as s:
        for role in ROLES:
            name = f"u-{role.replace('_', '-')}"
            dept = department if role == "terminal_manager" else None
            s.add(User(name=name, role=role, department=dept, password_hash=_PASSWORD_HASH[0]))
            audit.record(s, "system", "users.add", f"user:{name}", details={"role": role})
            names[role] = name
    return Accounts(settings, names)


def set_require_2fa(settings: Settings, on: bool = True) -> None:
    """Store the installation's 2FA policy in a test database."""
    from kumin.core.db import session_scope
    from kumin.core.installation import store_policy

    with session_scope(settings) as s:
        store_policy(s, require_2fa=on)


@pytest.fixture
def users(fresh_db) -> Accounts:
    return make_users(fresh_db)


def actor_for(accounts_: Accounts, role: str):
    from kumin.core.permissions import Actor

    name = accounts_.by_role[role]
    dept = "課税課" if role == "terminal_manager" else None
    from kumin.core.accounts import get_user
    from kumin.core.db import session_scope

    with session_scope(accounts_.settings) as s:
        uid = get_user(s, name).id
    return Actor(name, role, uid, dept, "en")


# --- web --------------------------------------------------------------------------------


class WebClient:
    """A synchronous face on ``httpx.AsyncClient(transport=ASGITransport(app))``."""

    def __init__(self, app, portal):
        import httpx

        self.app = app
        self._portal = portal
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )

    def request(self, method: str, url: str, **kw):
        return self._portal.call(lambda: self._client.request(method, url, **kw))

    def get(self, url: str, **kw):
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw):
        return self.request("POST", url, **kw)

    @property
    def cookies(self):
        return self._client.cookies

    def csrf(self) -> str:
        body = self.get("/account").text
        found = re.search(r'name="csrf-token" content="([^"]+)"', body)
        return found.group(1) if found else ""

    def login(self, name: str, password: str = PASSWORD, code: str | None = None):
        page = self.get("/login").text
        pre = re.search(r'name="prelogin" value="([^"]+)"', page).group(1)
        r = self.post("/login", data={"name": name, "password": password, "prelogin": pre})
        if code is not None and r.headers.get("location") == "/login/otp":
            csrf = re.search(
                r'name="csrf-token" content="([^"]+)"', self.get("/login/otp").text
            ).group(1)
            r = self.post("/login/otp", data={"code": code, "csrf": csrf})
        return r

    def logout(self) -> None:
        self.post("/logout", data={"csrf": self.csrf()})


@pytest.fixture
def app_client(fresh_db) -> Iterator[WebClient]:
    from anyio.from_thread import start_blocking_portal

    from kumin.web.app import create_app

    with start_blocking_portal() as portal:
        client = WebClient(create_app(fresh_db), portal)
        yield client
        portal.call(client._client.aclose)


# --- CLI --------------------------------------------------------------------------------


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Cli:
    """Runs ``kumin`` in-process with the environment of one test database."""

    def __init__(self, settings: Settings, home: Path, monkeypatch):
        self.settings = settings
        self.env = {
            "KUMIN_DATABASE_URL": settings.database_url,
            "KUMIN_KEY_FILE": str(settings.key_file),
            "KUMIN_HOME": str(home),
            "KUMIN_LANG": "en",
        }
        self._mp = monkeypatch

    def __call__(
        self,
        *args: str,
        user: str | None = None,
        password: str = PASSWORD,
        stdin: str = "",
        env: dict[str, str] | None = None,
    ) -> CliResult:
        from kumin.cli.main import run

        full = dict(self.env)
        if user:
            full.update({"KUMIN_USER": user, "KUMIN_PASSWORD": password})
        full.update(env or {})
        out, err = io.StringIO(), io.StringIO()
        with self._mp.context() as mp:
            for key in ("KUMIN_USER", "KUMIN_PASSWORD", "KUMIN_OTP"):
                mp.delenv(key, raising=False)
            for key, value in full.items():
                mp.setenv(key, value)
            mp.setattr(sys, "stdin", io.StringIO(stdin))
            code = 0
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    run(list(args))
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 1
        return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli(fresh_db, tmp_path, monkeypatch) -> Cli:
    return Cli(fresh_db, tmp_path / "home", monkeypatch)
