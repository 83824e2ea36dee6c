"""The web shell: security headers, cookies, CSRF, language switch, error shape."""

from __future__ import annotations

import pytest


@pytest.fixture
def fresh_db(sqlite_db):
    return sqlite_db


def test_security_headers_and_cookie_flags(users, app_client):
    r = app_client.get("/login")
    csp = r.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    r = app_client.login(users.by_role["admin"])
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "<script>" not in app_client.get("/").text  # no inline scripts anywhere


def test_secure_cookie_over_https(users):
    from anyio.from_thread import start_blocking_portal
    from tests.conftest import WebClient

    from kumin.web.app import create_app

    with start_blocking_portal() as portal:
        client = WebClient(create_app(users.settings), portal)
        client._client.base_url = "https://testserver"
        r = client.login(users.by_role["admin"])
        assert "secure" in r.headers["set-cookie"].lower()


def test_forms_need_the_csrf_token(users, app_client):
    app_client.login(users.by_role["admin"])
    r = app_client.post(
        "/admin/users", data={"name": "x1", "role": "auditor", "password": "long-password-1"}
    )
    assert r.status_code == 401
    r = app_client.post(
        "/admin/users",
        data={"name": "x1", "role": "auditor", "password": "long-password-1", "csrf": "forged"},
    )
    assert r.status_code == 401
    r = app_client.post(
        "/admin/users",
        data={
            "name": "x1",
            "role": "auditor",
            "password": "long-password-1",
            "csrf": app_client.csrf(),
        },
    )
    assert r.status_code == 303


def test_login_form_needs_its_token(users, app_client):
    r = app_client.post("/login", data={"name": users.by_role["admin"], "password": "x" * 12})
    assert r.status_code == 400


def test_japanese_by_default_english_on_switch(users, app_client):
    assert "ログイン" in app_client.get("/login").text
    r = app_client.get("/lang/en?next=/login")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "Sign in" in app_client.get("/login").text
    # never an open redirect
    assert app_client.get("/lang/ja?next=//evil.example").headers["location"] == "/"


def test_one_json_error_shape(users, app_client):
    for path, status in (("/api/v1/me", 401), ("/api/v1/nope", 404)):
        r = app_client.get(path)
        assert r.status_code == status
        body = r.json()
        assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    app_client.login(users.by_role["researcher"])
    r = app_client.get("/api/v1/users")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = app_client.get("/api/v1/audit?since=notadate", headers={"accept": "application/json"})
    assert r.status_code in (403, 422)


def test_api_token_and_openapi(users, app_client):
    app_client.login(users.by_role["auditor"])
    import re

    page = app_client.post("/account/token", data={"label": "script", "csrf": app_client.csrf()})
    token = re.search(r'id="api-token">([^<]+)<', page.text).group(1)
    app_client.logout()
    r = app_client.get("/api/v1/audit/verify", headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["ok"] is True
    spec = app_client.get("/api/v1/openapi.json").json()
    assert "/api/v1/audit" in spec["paths"]


def test_unknown_page_is_a_page(app_client):
    r = app_client.get("/nowhere", headers={"accept": "text/html"})
    assert r.status_code == 404 and "<html" in r.text


def test_menu_by_task_and_the_alert_queue_first(app_client, users):
    """#14: the auditor's menu is grouped by task and the dashboard opens on the queue."""
    import re

    app_client.login(users.by_role["auditor"])
    page = app_client.get("/").text
    groups = re.findall(r'<p class="nav-group">([^<]+)</p>', page)
    assert groups[0] == "操作ログ" and groups[-1] == "監査・管理"
    cards = re.findall(r'<section class="card">\s*<h2>([^<]+)</h2>', page)
    assert cards[0] == "操作ログの警告"


def test_a_refusal_names_no_permission_id(app_client, users):
    app_client.login(users.by_role["researcher"])
    r = app_client.get("/epi/rt")
    assert r.status_code == 403
    assert "権限がありません" in r.text and "epi.run" not in r.text


def test_chart_legends_sit_below_the_axis_title():
    from kumin.reports.charts import Chart, Series, to_plotly

    chart = Chart("受電", x_title="日付", y_title="件数")
    chart.add(Series("受電件数", ["2021-07-01", "2021-07-02"], [3, 4]))
    layout = to_plotly(chart)["layout"]
    # horizontal legend anchored by its top below the plot, with room for the x title
    assert layout["legend"]["yanchor"] == "top" and layout["legend"]["y"] <= -0.2
    assert layout["margin"]["b"] >= 90


def test_a_write_is_committed_before_its_response_is_sent(users):
    """FastAPI ends a ``yield`` dependency after the response by default: the client
    would be told "done" for a write that could still fail to commit, and a job
    polled at once could be missing. At the moment the sign-in's response starts,
    its session row must already be visible to another connection."""
    from anyio.from_thread import start_blocking_portal
    from sqlalchemy import create_engine, text
    from tests.conftest import WebClient

    from kumin.web.app import create_app

    engine = create_engine(users.settings.database_url)
    seen: list[int] = []

    def sessions() -> int:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM web_sessions")).scalar_one()

    app = create_app(users.settings)

    async def probe(scope, receive, send):
        async def watch(message):
            if (
                message["type"] == "http.response.start"
                and scope.get("method") == "POST"
                and scope.get("path") == "/login"
            ):
                seen.append(sessions())
            await send(message)

        await app(scope, receive, watch)

    before = sessions()
    with start_blocking_portal() as portal:
        client = WebClient(probe, portal)
        r = client.login(users.by_role["auditor"])
    engine.dispose()
    assert r.status_code in (302, 303)
    assert seen and seen[-1] == before + 1
