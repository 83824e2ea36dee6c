"""Every page of every role, in Japanese, says what it says in Japanese (#14).

A ward filled in every domain is walked as each role sees it, from every page the
app declares (its GET routes) and link by link from there; a
page fails on a ``\\u`` escape (raw JSON), ``None``/``True``/``False``, a snake_case
identifier or an English word outside :data:`tests.web.japanese_walk.ALLOWED`.
Raw values that are the record itself (log lines, file column names, the audit
trail's action codes) are set in ``<code>`` and not read as UI text.
"""

from __future__ import annotations

import pytest
from tests.web.japanese_walk import route_pages, walk
from tests.web.ward import seed_ward


@pytest.fixture
def fresh_db(sqlite_db):
    # what a page says does not depend on the storage backend
    return sqlite_db


@pytest.fixture
def ward(users, tmp_path):
    return seed_ward(users, tmp_path)


def test_every_page_of_every_role_is_japanese(ward, app_client):
    report = []
    for role, name in sorted(ward.by_role.items()):
        app_client.login(name)

        def get(url):
            r = app_client.get(url, follow_redirects=True)
            return r.status_code, r.headers.get("content-type", ""), r.text

        seen, found = walk(get, limit=120, per_pattern=2, starts=route_pages(app_client.app))
        assert len(seen) >= 3, role
        report += [f"{role} {url}: {kind} {text!r}" for url, kind, text in found]
        app_client.logout()
    assert not report, "\n".join(sorted(set(report)))
