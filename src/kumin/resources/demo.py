"""Demo data of the resources domain: the synthetic ward's call-centre days
(Feb 2020 – Jan 2022) and monthly service counts (2017 – 2022), imported through
the same importers a user would use, as the demo epidemiologist.

Loading twice changes nothing: the second import finds every row unchanged,
and is skipped altogether when the stored rows already match.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import func, select

from kumin.core.context import Ctx
from kumin.core.permissions import Actor
from kumin.resources import service, service_continuity
from kumin.resources.models import WARD_CENTRE, CallDay, ServiceMonth
from kumin.synth.demo import DEMO_USERS
from kumin.synth.resources import write_call_centre_csv, write_service_counts_csv


def load_demo(ctx: Ctx, seed: int, progress) -> None:
    """Import the synthetic call-centre days and service counts (idempotent)."""
    epi = Ctx(
        ctx.session,
        ctx.settings,
        Actor(DEMO_USERS["epidemiologist"], "epidemiologist", None, None, ctx.lang),
    )
    task = progress.add_task("人・金・物 / Resources", total=2)
    with tempfile.TemporaryDirectory(prefix="kumin-demo-resources-") as folder:
        calls_csv = Path(folder) / "call_centre_daily.csv"
        days = write_call_centre_csv(calls_csv, seed=seed)
        stored = ctx.session.scalar(
            select(func.count()).select_from(CallDay).where(CallDay.centre == WARD_CENTRE)
        )
        if stored != days.height:
            service.import_calls(epi, calls_csv, "call_centre_daily", WARD_CENTRE)
        progress.update(task, advance=1)
        counts_csv = Path(folder) / "monthly_service_counts.csv"
        counts = write_service_counts_csv(counts_csv, seed=seed)
        stored = ctx.session.scalar(select(func.count()).select_from(ServiceMonth))
        if stored != counts.height:
            service_continuity.import_service_counts(epi, counts_csv)
        progress.update(task, advance=1)
