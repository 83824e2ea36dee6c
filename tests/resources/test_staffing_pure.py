"""``kumin calls staffing`` is a pure calculator: it runs with no database, no key
file and nobody signed in (like ``kumin epi rt --counts``), and gives the same
answer as the queueing core."""

from __future__ import annotations

import json

import pytest
from tests.conftest import Cli

from kumin.core.config import Settings
from kumin.resources import service_plan
from kumin.resources.queueing import min_agents

ARGS = ("--arrivals-per-hour", "200", "--handle-seconds", "180", "--answer-within", "20")


@pytest.fixture
def anyone(tmp_path, monkeypatch) -> Cli:
    """A CLI whose database does not exist: nobody is signed in, nothing initialised."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'missing' / 'none.db'}",
        key_file=tmp_path / "none.key",
    )
    return Cli(settings, tmp_path / "home", monkeypatch)


def test_staffing_without_database_or_sign_in(anyone, tmp_path):
    r = anyone("calls", "staffing", *ARGS, "--service-level", "0.8", "--format", "json")
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert tuple(body) == service_plan.STAFFING_KEYS
    expected = min_agents(200, 180, 20, 0.8, max_occupancy=0.85)
    assert body["agents"] == expected.agents == 14
    assert body["scheduled_agents"] == 20
    # nothing was created where the database and the key would be
    assert not (tmp_path / "missing").exists() and not (tmp_path / "none.key").exists()


def test_staffing_erlang_a_and_the_table_without_database(anyone):
    r = anyone(
        "calls", "staffing", *ARGS, "--service-level", "0.8", "--patience-seconds", "120",
        "--format", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["model"] == "erlang_a" and body["patience_seconds"] == 120
    assert body["agents"] == min_agents(200, 180, 20, 0.8, 120, max_occupancy=0.85).agents
    table = anyone("calls", "staffing", *ARGS, "--service-level", "0.8")
    assert table.exit_code == 0 and "┃" in table.stdout, table.output


def test_staffing_bad_target_is_a_user_error_without_database(anyone):
    r = anyone("calls", "staffing", *ARGS, "--service-level", "1.5")
    assert r.exit_code == 1
    assert "service_level" in r.stderr and "Got 1.5 instead" in r.stderr
