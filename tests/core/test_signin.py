"""Sign-in under attack: code guessing, throttling, revocable tokens, 2FA policy.

Each test replays one finding of issue #10 (sign-in half) and fails on the code
before the fix.
"""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select
from tests.conftest import PASSWORD, WebClient, set_require_2fa

from kumin.core import accounts, signin, throttle, tokens
from kumin.core.context import context
from kumin.core.db import session_scope, utcnow
from kumin.core.models import ApiToken, AuditEntry, User

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
ALERT = re.compile(r'role="alert">([^<]+)<')
sqlite_only = pytest.mark.parametrize("fresh_db", ["sqlite"], indirect=True)


def enrol(settings, name: str) -> str:
    """Give an account an authenticator app; returns its secret.

    Enrolled with the previous time step's code, so that the current code is
    still fresh for signing in.
    """
    with session_scope(settings) as s:
        actor = accounts.actor_of(accounts.get_user(s, name))
    with context(settings, actor) as ctx:
        setup = signin.begin_totp(ctx)
    with context(settings, actor) as ctx:
        signin.confirm_totp(ctx, pyotp.TOTP(setup.secret).at(time.time() - 30))
    return setup.secret


def wrong_code(secret: str) -> str:
    totp, now = pyotp.TOTP(secret), time.time()
    valid = {totp.at(now + d) for d in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{i:06d}" for i in range(10)) if c not in valid)


def audit_rows(settings, action: str, actor: str | None = None) -> list[AuditEntry]:
    with session_scope(settings) as s:
        q = select(AuditEntry).where(AuditEntry.action == action)
        if actor:
            q = q.where(AuditEntry.actor == actor)
        return list(s.scalars(q.order_by(AuditEntry.seq)))


@pytest.fixture
def frozen_clock(monkeypatch):
    """Stop the throttle's clock, so that no delay runs out while a test runs."""
    now = utcnow()
    monkeypatch.setattr(throttle, "_now", lambda: now)
    return now


def second_client(app_client) -> WebClient:
    return WebClient(app_client.app, app_client._portal)


# --- item 1: one-time codes cannot be guessed on one password-verified session --------


def test_thirty_wrong_codes_then_the_right_one_does_not_sign_in(users, app_client):
    name = users.by_role["epidemiologist"]
    secret = enrol(users.settings, name)
    assert app_client.login(name).headers["location"] == "/login/otp"
    cookie = app_client.cookies.get("kumin_session")
    csrf = CSRF.search(app_client.get("/login/otp").text).group(1)
    bad = wrong_code(secret)
    for _ in range(30):
        # the attacker keeps presenting the same password-verified session
        app_client.cookies.set("kumin_session", cookie)
        app_client.post("/login/otp", data={"code": bad, "csrf": csrf})
    app_client.cookies.set("kumin_session", cookie)
    right = app_client.post("/login/otp", data={"code": pyotp.TOTP(secret).now(), "csrf": csrf})
    assert right.headers.get("location") != "/"
    app_client.cookies.set("kumin_session", cookie)
    assert app_client.get("/").headers["location"] == "/login"
    assert app_client.get("/api/v1/me").status_code == 401
    failed = [e for e in audit_rows(users.settings, "auth.second_factor") if e.outcome == "failed"]
    assert len(failed) == signin.MAX_CODE_ATTEMPTS  # only five codes were ever checked
    assert json.loads(failed[-1].details)["session_ended"] is True
    assert not [e for e in audit_rows(users.settings, "auth.login", name) if e.outcome == "ok"]


def test_parallel_codes_on_one_session_are_counted_too(users, app_client):
    import anyio

    name = users.by_role["epidemiologist"]
    secret = enrol(users.settings, name)
    app_client.login(name)
    csrf = CSRF.search(app_client.get("/login/otp").text).group(1)
    bad = wrong_code(secret)

    async def burst() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(
                    lambda: app_client._client.post("/login/otp", data={"code": bad, "csrf": csrf})
                )

    app_client._portal.call(burst)
    checked = [e for e in audit_rows(users.settings, "auth.second_factor") if e.outcome == "failed"]
    assert len(checked) <= signin.MAX_CODE_ATTEMPTS


def test_api_refuses_a_session_that_has_not_passed_its_code(users, app_client):
    name = users.by_role["epidemiologist"]
    enrol(users.settings, name)
    app_client.login(name)
    r = app_client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "auth"


@sqlite_only
def test_a_delay_raised_meanwhile_stops_the_code_step(users, app_client, frozen_clock):
    name = users.by_role["epidemiologist"]
    secret = enrol(users.settings, name)
    app_client.login(name)  # session A waits for its code
    csrf = CSRF.search(app_client.get("/login/otp").text).group(1)
    other = second_client(app_client)
    for _ in range(users.settings.account_free_failures):
        other.login(name, "wrong-password-here")
    r = app_client.post("/login/otp", data={"code": pyotp.TOTP(secret).now(), "csrf": csrf})
    assert r.status_code == 429
    assert app_client.get("/").headers["location"] == "/login/otp"
    denied = audit_rows(users.settings, "auth.second_factor", name)[-1]
    assert denied.outcome == "denied" and json.loads(denied.details)["reason"] == "throttled"


@sqlite_only
def test_a_right_password_does_not_reset_the_failure_count(users, app_client, frozen_clock):
    name = users.by_role["epidemiologist"]
    enrol(users.settings, name)
    free = users.settings.account_free_failures
    for _ in range(free - 1):
        assert app_client.login(name, "wrong-password-here").status_code == 401
    assert app_client.login(name).headers["location"] == "/login/otp"  # no code given
    second_client(app_client).login(name, "wrong-password-here")
    assert second_client(app_client).login(name).status_code == 429


# --- item 3: growing delays, not an outsider's hard lock ------------------------------


@sqlite_only
def test_delays_grow_then_fade(users, monkeypatch):
    settings = users.settings
    clock = [utcnow()]
    monkeypatch.setattr(throttle, "_now", lambda: clock[0])
    waits = []
    with session_scope(settings) as s:
        for _ in range(10):
            throttle.record_failure(s, settings, "sato", "10.0.0.8", "web")
            waits.append(throttle.wait_seconds(s, settings, "sato", "10.0.0.8", "web"))
        assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32]
        assert throttle.wait_seconds(s, settings, "sato", "", "cli") == 0  # shell unaffected
        clock[0] += throttle.WINDOW + timedelta(seconds=1)
        assert throttle.wait_seconds(s, settings, "sato", "10.0.0.8", "web") == 0
        throttle.record_failure(s, settings, "sato", "10.0.0.8", "web")
        assert throttle.wait_seconds(s, settings, "sato", "10.0.0.8", "web") == 0  # restarted
    assert [throttle.delay_after(n, 5, 300) for n in (4, 5, 6, 12, 40)] == [0, 1, 2, 128, 300]


def test_unknown_names_and_wrong_passwords_get_the_same_answers(users, app_client, frozen_clock):
    answers = {}
    for name in ("nobody-here", users.by_role["admin"]):
        replies = [app_client.login(name, "wrong-password-here") for _ in range(8)]
        answers[name] = [(r.status_code, ALERT.search(r.text).group(1)) for r in replies]
    unknown, known = answers.values()
    assert unknown == known
    assert {code for code, _ in known} == {401, 429}  # slowed down, never "locked"


def test_an_outsider_cannot_keep_the_admin_out_of_the_shell(users, app_client, cli, frozen_clock):
    admin = users.by_role["admin"]
    for _ in range(40):
        app_client.login(admin, "wrong-password-here")
    assert app_client.login(admin).status_code == 429
    r = cli("users", "enable", admin, user=admin)
    assert r.exit_code == 0, r.output
    assert app_client.login(admin).headers["location"] == "/"


# --- item 2: tokens follow the account ------------------------------------------------


def _api_token(client: WebClient) -> str:
    page = client.post("/account/token", data={"label": "script", "csrf": client.csrf()}).text
    return re.search(r'id="api-token">([^<]+)<', page).group(1)


def _me(client: WebClient, token: str) -> int:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_token_made_before_a_role_change_to_a_2fa_role_answers_401(users, app_client, cli):
    set_require_2fa(users.settings)
    name = users.by_role["terminal_manager"]  # the one role without personal data
    assert app_client.login(name).headers["location"] == "/"
    token = _api_token(app_client)
    assert _me(app_client, token) == 200
    admin = users.by_role["admin"]
    code = pyotp.TOTP(enrol(users.settings, admin)).now()
    r = cli("users", "set-role", name, "auditor", user=admin, env={"KUMIN_OTP": code})
    assert r.exit_code == 0, r.output
    assert _me(app_client, token) == 401


@sqlite_only
def test_a_token_of_an_account_lacking_its_required_2fa_is_refused(users, app_client):
    name = users.by_role["epidemiologist"]
    app_client.login(name)
    token = _api_token(app_client)
    assert _me(app_client, token) == 200
    set_require_2fa(users.settings)  # the installation now requires 2FA of this role
    assert _me(app_client, token) == 401


def _service_token(settings, name: str) -> str:
    with session_scope(settings) as s:
        actor = accounts.actor_of(accounts.get_user(s, name))
    with context(settings, actor) as ctx:
        return tokens.create_api_token(ctx, "t")


@sqlite_only
@pytest.mark.parametrize(
    "args,stdin",
    [
        (["users", "set-role", "u-auditor", "epidemiologist"], ""),
        (["users", "reset-2fa", "u-auditor"], ""),
        (["users", "disable", "u-auditor"], ""),
        (["users", "expire-password", "u-auditor"], ""),
        (["users", "set-password", "u-auditor", "--password-stdin"], "brand-new-harbour-7\n"),
    ],
)
def test_admin_changes_revoke_the_accounts_tokens(users, cli, args, stdin):
    token = _service_token(users.settings, "u-auditor")
    with session_scope(users.settings) as s:
        assert tokens.find_api_token(s, token) is not None
    r = cli(*args, user=users.by_role["admin"], stdin=stdin)
    assert r.exit_code == 0, r.output
    with session_scope(users.settings) as s:
        assert tokens.find_api_token(s, token) is None
        assert s.scalar(select(ApiToken).where(ApiToken.token_hash == accounts.sha(token))) is None


@sqlite_only
def test_tokens_are_listed_and_revoked_by_owner_and_admin(users, cli, app_client):
    epi, admin = users.by_role["epidemiologist"], users.by_role["admin"]
    assert cli("login", epi, user=epi).exit_code == 0
    mine = json.loads(cli("tokens", "list", "--format", "json", user=epi).stdout)
    assert [(t["owner"], t["label"]) for t in mine] == [(epi, "cli")]
    token_id = str(mine[0]["id"])
    r = cli("tokens", "revoke", token_id, user=users.by_role["auditor"])
    assert r.exit_code == 1 and "not allowed" in r.stderr
    everyone = json.loads(cli("tokens", "list", "--all", "--format", "json", user=admin).stdout)
    assert token_id in {str(t["id"]) for t in everyone}
    assert cli("tokens", "revoke", token_id, user=admin).exit_code == 0
    assert cli("tokens", "list", env={"KUMIN_USER": epi, "KUMIN_PASSWORD": ""}).exit_code == 1
    # owners revoke their own on the web and through the API
    app_client.login(epi)
    token = _api_token(app_client)
    listed = app_client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"})
    (own,) = listed.json()
    gone = app_client.request(
        "DELETE", f"/api/v1/tokens/{own['id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert gone.status_code == 200
    assert _me(app_client, token) == 401
    revoked = audit_rows(users.settings, "users.token_revoke")
    assert [e.actor for e in revoked] == [admin, epi]


# --- item 6: the 2FA page never drops an active factor ----------------------------------


def test_a_wrong_code_on_the_2fa_page_keeps_the_factor(users, app_client):
    name = users.by_role["epidemiologist"]
    secret = enrol(users.settings, name)
    app_client.login(name, code=pyotp.TOTP(secret).now())
    csrf = app_client.csrf()
    assert app_client.post("/account/2fa", data={"code": "000000", "csrf": csrf}).status_code == 400
    app_client.get("/account/2fa?renew=1")  # moving to a new phone …
    r = app_client.post("/account/2fa", data={"code": wrong_code(secret), "csrf": csrf})
    assert r.status_code == 400  # … with a mistyped code
    with session_scope(users.settings) as s:
        user = accounts.get_user(s, name)
        assert user.totp_enabled and user.totp_secret is not None
    app_client.logout()
    assert app_client.login(name, code=pyotp.TOTP(secret).at(time.time() + 30)).headers[
        "location"
    ] == ("/")
    outcomes = [e.outcome for e in audit_rows(users.settings, "users.totp_enable", name)]
    assert outcomes == ["ok", "failed", "failed"]
    assert len(audit_rows(users.settings, "users.totp_begin", name)) == 2


@sqlite_only
def test_re_enrolment_replaces_the_factor_once_confirmed(users, app_client):
    name = users.by_role["epidemiologist"]
    old = enrol(users.settings, name)
    app_client.login(name, code=pyotp.TOTP(old).now())
    page = app_client.get("/account/2fa?renew=1").text
    new = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    done = app_client.post(
        "/account/2fa", data={"code": pyotp.TOTP(new).now(), "csrf": app_client.csrf()}
    )
    assert done.status_code == 200
    last = audit_rows(users.settings, "users.totp_enable", name)[-1]
    assert json.loads(last.details)["replaced"] is True


# --- item 8: logout, lifetime, password changes -----------------------------------------


def test_cli_logout_revokes_the_token_on_the_server(users, cli):
    name = users.by_role["auditor"]
    r = cli("login", name, user=name)
    assert r.exit_code == 0 and "8" in r.stdout
    saved = (Path(cli.env["KUMIN_HOME"]) / "session.json").read_text()
    token = json.loads(saved)["token"]
    with session_scope(users.settings) as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_hash == accounts.sha(token)))
        lifetime = row.expires_at - row.created_at
        assert abs(lifetime - timedelta(hours=users.settings.session_hours)) < timedelta(minutes=1)
    assert cli("logout").exit_code == 0
    (Path(cli.env["KUMIN_HOME"]) / "session.json").write_text(saved)  # a copy kept by someone
    assert cli("audit", "verify", env={"KUMIN_USER": name, "KUMIN_PASSWORD": ""}).exit_code == 1
    with session_scope(users.settings) as s:
        assert tokens.find_api_token(s, token) is None
    assert audit_rows(users.settings, "auth.logout", name)


@sqlite_only
def test_users_change_their_own_password_in_the_cli(users, cli):
    name = users.by_role["auditor"]
    r = cli("passwd", "--password-stdin", env={"KUMIN_USER": name}, stdin="wrong-current\nx\n")
    assert r.exit_code == 1
    r = cli(
        "passwd",
        "--password-stdin",
        env={"KUMIN_USER": name},
        stdin=f"{PASSWORD}\nfresh-harbour-pass-9\n",
    )
    assert r.exit_code == 0, r.output
    assert cli("audit", "verify", user=name).exit_code == 1
    assert cli("audit", "verify", user=name, password="fresh-harbour-pass-9").exit_code == 0


@sqlite_only
def test_users_change_their_own_password_on_the_web(users, app_client):
    name = users.by_role["auditor"]
    app_client.login(name)
    other = second_client(app_client)
    other.login(name)
    token = _api_token(other)
    form = {"current": PASSWORD, "new": "fresh-harbour-pass-9", "repeat": "fresh-harbour-pass-9"}
    r = app_client.post("/account/password", data={**form, "csrf": app_client.csrf()})
    assert r.status_code == 200 and 'id="password-changed"' in r.text
    assert app_client.get("/").status_code == 200  # this browser stays signed in
    assert other.get("/").headers["location"] == "/login"  # the other one does not
    assert _me(app_client, token) == 401
    app_client.logout()
    assert app_client.login(name).status_code == 401
    assert app_client.login(name, "fresh-harbour-pass-9").headers["location"] == "/"


@sqlite_only
def test_admins_can_force_a_password_change(users, cli, app_client):
    name = users.by_role["auditor"]
    assert cli("users", "expire-password", name, user=users.by_role["admin"]).exit_code == 0
    r = cli("audit", "verify", user=name)
    assert r.exit_code == 1 and "kumin passwd" in r.stderr
    app_client.login(name)
    assert app_client.get("/").headers["location"] == "/account/password"
    csrf = CSRF.search(app_client.get("/account/password").text).group(1)
    form = {"current": PASSWORD, "new": "fresh-harbour-pass-9", "repeat": "fresh-harbour-pass-9"}
    app_client.post("/account/password", data={**form, "csrf": csrf})
    assert app_client.get("/").status_code == 200
    assert cli("audit", "verify", user=name, password="fresh-harbour-pass-9").exit_code == 0


# --- item 9: code reuse, password policy, the 2FA policy is the installation's ----------


def test_a_totp_code_works_once(users, app_client):
    name = users.by_role["epidemiologist"]
    secret = enrol(users.settings, name)
    code = pyotp.TOTP(secret).now()
    assert app_client.login(name, code=code).headers["location"] == "/"
    app_client.logout()
    r = app_client.login(name, code=code)
    assert r.status_code == 401
    reused = audit_rows(users.settings, "auth.second_factor", name)[-1]
    assert json.loads(reused.details)["reason"] == "reused"


@sqlite_only
@pytest.mark.parametrize(
    "password,message",
    [
        ("qwertyuiop", "most common"),
        ("1234567890", "most common"),
        ("Yamada-2026-pass", "user name"),
        ("short", "at least 10"),
    ],
)
def test_weak_passwords_are_refused(users, cli, password, message):
    r = cli(
        "users",
        "add",
        "yamada",
        "--role",
        "auditor",
        "--password-stdin",
        user=users.by_role["admin"],
        stdin=password + "\n",
    )
    assert r.exit_code == 1 and message in r.stderr
    with session_scope(users.settings) as s:
        assert s.scalar(select(User).where(User.name == "yamada")) is None


@sqlite_only
def test_the_2fa_policy_is_stored_and_changed_by_an_admin(users, cli):
    admin, auditor = users.by_role["admin"], users.by_role["auditor"]
    assert cli("audit", "verify", user=auditor).exit_code == 0
    assert cli("policy", "set", "require_2fa", "on", user=admin).exit_code == 0
    r = cli("audit", "verify", user=auditor, env={"KUMIN_REQUIRE_2FA": "0"})
    assert r.exit_code == 1 and "two-factor" in r.stderr
    r = cli("policy", "show", user=admin)  # the admin, too, must now enrol first
    assert r.exit_code == 1 and "two-factor" in r.stderr
    assert audit_rows(users.settings, "system.policy")


# --- issue #14 item 1: the demo installation remembers that it is one --------------------


def test_a_second_shell_signs_in_to_the_demo_with_a_printed_password(tmp_path, monkeypatch):
    from tests.conftest import Cli

    from kumin.cli import common
    from kumin.core.config import Settings
    from kumin.core.db import dispose_engine
    from kumin.synth import demo

    # Only what sign-in needs: the domains' synthetic data is tested with each domain.
    monkeypatch.setattr(demo, "import_part", lambda part: [])  # no domain loaders
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'kumin.db'}", key_file=tmp_path / "k")
    first = Cli(settings, tmp_path / "home1", monkeypatch)
    first.env.pop("KUMIN_REQUIRE_2FA", None)
    try:
        made = first("demo", "--no-serve")
        assert made.exit_code == 0, made.output
        row = next(line for line in made.stdout.splitlines() if "demo-epi " in line)
        password = [cell.strip() for cell in re.split(r"[│|┃]", row) if cell.strip()][2]
        assert "kumin login demo-epi" in made.stdout
        # a second shell: nothing but where the database is, and the password typed in
        second = Cli(settings, tmp_path / "home2", monkeypatch)
        monkeypatch.setattr(common, "_prompt", lambda label, secret=True: password)
        r = second("login", "demo-epi")
        assert r.exit_code == 0, r.output
        assert second("tokens", "list", env={"KUMIN_USER": "demo-epi"}).exit_code == 0
        # running the demo again keeps it a demo; a real installation is never made one
        assert first("demo", "--no-serve").exit_code == 0
    finally:
        dispose_engine(settings)


@sqlite_only
def test_kumin_demo_refuses_a_real_installation(users, cli):
    from kumin.synth import demo

    r = cli("demo", "--no-serve")
    assert r.exit_code == 1 and "not demo accounts" in r.stderr
    assert demo.DEMO_USERS["admin"] not in cli("users", "list", user=users.by_role["admin"]).stdout


@sqlite_only
def test_the_demo_says_where_to_go(fresh_db, monkeypatch):
    import io

    from rich.console import Console

    from kumin.synth import demo

    monkeypatch.setattr(demo, "import_part", lambda part: [])  # no domain loaders
    out = io.StringIO()
    demo.set_up_demo(fresh_db, console=Console(file=out, width=200), url="http://127.0.0.1:8000/")
    text = out.getvalue()
    assert "http://127.0.0.1:8000/" in text and "kumin login demo-epi" in text
