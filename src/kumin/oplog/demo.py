"""Demo data of the operation-log analysis.

A synthetic year of terminal logs (:func:`kumin.juki.demo.demo_synth`, the same
generator run the Juki-net demo records come from, so ledgers, reservations and
business records match the logs) is written as a CSV and imported by the demo
records officer; the demo auditor then scans it, so the alert queue is filled.
One alert is closed as misuse and one taken under review, to show triage, and
the FY2021 deterrence notices are recorded as issued. Loading twice changes
nothing: the log file's checksum is already known and the step is skipped.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from sqlalchemy import select

from kumin.core.context import Ctx
from kumin.core.permissions import Actor
from kumin.oplog import models as m
from kumin.oplog import service
from kumin.oplog.logs import write_log_csv
from kumin.synth.demo import DEMO_USERS

DEMO_FILE = "demo_terminal_log_2021.csv"


def _as(ctx: Ctx, role: str) -> Ctx:
    return Ctx(ctx.session, ctx.settings, Actor(DEMO_USERS[role], role, None, None, "ja"))


def load_demo(ctx: Ctx, seed: int, progress) -> None:
    """Import the demo year of logs and scan it (nothing happens the second time)."""
    from kumin.juki import demo as juki_demo
    from kumin.juki.models import JukiDepartment

    if ctx.session.scalar(select(m.OplogFile.id).where(m.OplogFile.name == DEMO_FILE)):
        return
    if ctx.session.scalar(select(JukiDepartment.code).limit(1)) is None:
        juki_demo.load_demo(ctx, seed, progress)  # the records the logs are judged against
    synth = juki_demo.demo_synth(seed)
    task = progress.add_task("操作ログ / Operation logs", total=synth.events.height)
    officer, auditor = _as(ctx, "records_officer"), _as(ctx, "auditor")
    with tempfile.TemporaryDirectory(prefix="kumin-oplog-demo-") as tmp:
        path = Path(tmp) / DEMO_FILE
        write_log_csv(synth.events, path)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        service.import_log(officer, path, progress=advance)
    result = service.run_scan(auditor)

    by_rule = {a["rule"]: a for a in reversed(result.alerts)}
    watch = by_rule.get("watch_list")
    if watch is not None and watch["state"] == m.NEW:
        service.review(auditor, watch["id"], "所属に照会。業務上の理由の説明を求めた。")
        service.close(
            auditor,
            watch["id"],
            "misuse",
            "同僚に頼まれて住所を確認したもので、業務上の理由はなかった（2022年の事案と同型）。"
            "所属長に報告し、研修で再周知。",
        )
    night = by_rule.get("off_hours")
    if night is not None and night["state"] == m.NEW:
        service.review(auditor, night["id"], "時間外勤務命令の有無を所属に確認中。")
    service.issue_notices(officer, dt.date(2021, 4, 1), dt.date(2022, 3, 31))
