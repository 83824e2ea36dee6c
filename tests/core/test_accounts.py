"""Accounts: Argon2id, lock-out, two-factor sign-in with recovery codes."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from kumin.core import accounts
from kumin.core.db import session_scope
from kumin.core.models import User


def test_passwords_are_argon2id(users):
    with session_scope(users.settings) as s:
        user = accounts.get_user(s, users.by_role["admin"])
        assert user.password_hash.startswith("$argon2id$")


def test_unknown_user_gets_the_same_answer(users, app_client):
    a = app_client.login("nobody-here", "whatever-password")
    b = app_client.login(users.by_role["admin"], "whatever-password")
    assert a.status_code == b.status_code == 401
    msg = re.compile(r'role="alert">([^<]+)<')
    assert msg.search(a.text).group(1) == msg.search(b.text).group(1)


def test_two_factor_enrolment_and_sign_in(users, app_client):
    name = users.by_role["epidemiologist"]
    app_client.login(name)
    page = app_client.get("/account/2fa").text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    csrf = app_client.csrf()
    bad = app_client.post("/account/2fa", data={"code": "000000", "csrf": csrf})
    assert bad.status_code == 400
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', bad.text).group(1)
    # the code of the previous step: the current one stays fresh for signing in below
    previous = pyotp.TOTP(secret).at(time.time() - 30)
    done = app_client.post("/account/2fa", data={"code": previous, "csrf": csrf})
    codes = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", done.text)
    assert len(codes) == 10
    app_client.logout()
    # password alone is not enough any more
    r = app_client.login(name)
    assert r.headers["location"] == "/login/otp"
    assert app_client.get("/").headers["location"] == "/login/otp"
    app_client.logout()
    r = app_client.login(name, code=pyotp.TOTP(secret).now())
    assert r.headers["location"] == "/"
    assert app_client.get("/").status_code == 200
    app_client.logout()
    # a recovery code works once
    assert app_client.login(name, code=codes[0]).headers["location"] == "/"
    app_client.logout()
    assert app_client.login(name, code=codes[0]).status_code == 401


def test_required_2fa_forces_enrolment(users):
    from anyio.from_thread import start_blocking_portal
    from tests.conftest import WebClient, set_require_2fa

    from kumin.web.app import create_app

    set_require_2fa(users.settings)
    with start_blocking_portal() as portal:
        client = WebClient(create_app(users.settings), portal)
        r = client.login(users.by_role["records_officer"])
        assert r.headers["location"] == "/account/2fa"
        assert client.get("/").headers["location"] == "/account/2fa"
        assert client.get("/account/2fa").status_code == 200


def test_cli_refuses_roles_needing_2fa_without_it(cli, users):
    from tests.conftest import set_require_2fa

    set_require_2fa(cli.settings)
    # the policy is the installation's: the caller's environment cannot turn it off
    r = cli("audit", "verify", user=users.by_role["auditor"], env={"KUMIN_REQUIRE_2FA": "0"})
    assert r.exit_code == 1
    assert "two-factor" in r.stderr


def test_cli_user_lifecycle(cli, users):
    admin = users.by_role["admin"]
    r = cli(
        "users",
        "add",
        "yamada",
        "--role",
        "terminal_manager",
        "--department",
        "課税課",
        "--password-stdin",
        user=admin,
        stdin="long-enough-pass\n",
    )
    assert r.exit_code == 0, r.output
    assert (
        cli(
            "users",
            "add",
            "sato",
            "--role",
            "terminal_manager",
            "--password-stdin",
            user=admin,
            stdin="long-enough-pass\n",
        ).exit_code
        == 1
    )
    assert (
        cli(
            "users",
            "add",
            "x",
            "--role",
            "wizard",
            "--password-stdin",
            user=admin,
            stdin="long-enough-pass\n",
        ).exit_code
        == 1
    )
    r = cli("users", "set-role", "yamada", "auditor", user=admin)
    assert r.exit_code == 0, r.output
    r = cli("users", "disable", "yamada", user=admin)
    assert r.exit_code == 0
    listing = cli("users", "list", "--format", "json", user=admin).stdout
    assert '"name": "yamada"' in listing and '"disabled": true' in listing
    r = cli("audit", "verify", user="yamada", password="long-enough-pass")
    assert r.exit_code == 1


def test_first_user_needs_no_sign_in(cli):
    with session_scope(cli.settings) as s:
        assert s.query(User).count() == 0
    r = cli(
        "users",
        "add",
        "root-admin",
        "--role",
        "admin",
        "--password-stdin",
        stdin="first-password-ok\n",
    )
    assert r.exit_code == 0, r.output
    r = cli(
        "users", "add", "second", "--role", "admin", "--password-stdin", stdin="first-password-ok\n"
    )
    assert r.exit_code == 1  # from now on, only a signed-in admin


@pytest.mark.parametrize("lang,word", [("ja", "エラー"), ("en", "Error")])
def test_cli_errors_in_the_users_language(cli, users, lang, word):
    r = cli("users", "list", user="nobody", env={"KUMIN_LANG": lang})
    assert r.exit_code == 1
    assert r.stderr.strip().startswith(word)
    assert "Traceback" not in r.output
    assert len(r.stderr.strip().splitlines()) == 1


def test_cli_login_session(cli, users):
    name = users.by_role["auditor"]
    assert cli("login", name, user=name).exit_code == 0
    # no password needed while the session lasts
    r = cli("audit", "verify", env={"KUMIN_USER": name})
    assert r.exit_code == 0, r.output
    assert cli("logout").exit_code == 0
    assert cli("audit", "verify", env={"KUMIN_USER": name}).exit_code == 1
