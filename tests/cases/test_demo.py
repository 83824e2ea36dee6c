"""The cases demo loads through the services and loading it twice changes nothing."""

from __future__ import annotations

import json

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import func, select

from kumin.cases import demo
from kumin.cases.models import CaseRow, Contract, Disposal, ImportRun, Release
from kumin.core import accounts
from kumin.core.context import context
from kumin.core.db import session_scope
from kumin.core.models import AuditEntry
from kumin.core.permissions import SYSTEM, Actor
from kumin.synth.demo import DEMO_USERS


def _counts(settings) -> dict[str, int]:
    with session_scope(settings) as s:
        return {
            m.__name__: s.scalar(select(func.count()).select_from(m))
            for m in (CaseRow, ImportRun, Contract, Release, Disposal, AuditEntry)
        }


def test_demo_loads_once(sqlite_db, monkeypatch):
    monkeypatch.setattr(demo, "RECORDS", 400)
    for i, (role, name) in enumerate(DEMO_USERS.items()):
        with context(sqlite_db, SYSTEM if i == 0 else Actor("demo-admin", "admin")) as ctx:
            dept = "課税課" if role == "terminal_manager" else None
            accounts.add_user(ctx, name, role, "demo-password-123", dept)
    admin = Actor(DEMO_USERS["admin"], "admin")
    with Progress(console=Console(quiet=True)) as progress:
        with context(sqlite_db, admin) as ctx:
            demo.load_demo(ctx, seed=5, progress=progress)
        first = _counts(sqlite_db)
        with context(sqlite_db, admin) as ctx:
            demo.load_demo(ctx, seed=5, progress=progress)
    assert _counts(sqlite_db) == first
    assert first["CaseRow"] == 400 and first["Release"] == 1 and first["Disposal"] == 1
    with session_scope(sqlite_db) as s:
        states = dict(s.execute(select(Contract.code, Contract.disposed_at)).all())
        release = s.scalar(select(Release))
    assert states[demo.REPORT_CONTRACT] is not None  # ended in 2022: disposed of at load
    assert states[demo.CURRENT_CONTRACT] is None
    # k = 5 reached by generalisation, withholding at most the contract's 5 % of records
    assert 0.95 * 400 <= release.records <= 400 and json.loads(release.manifest)["k"] >= 5
