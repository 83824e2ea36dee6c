"""Demo data: the synthetic ward's card and Juki-net records, loaded through the services.

After :func:`load_demo`, ``kumin report security --fy 2021`` (and ``--fy 2020``)
prints exactly the figures of the source report. The load goes through what a
records officer would use: the window list is written as CSV and imported, the
ward's history (cards, state changes, certificates, Juki-net transactions,
inquiries, population) is written as a card-management system's export in
Japanese and imported with :func:`kumin.cards.service_records.import_history`
(``kumin cards history import``), and a few cards are recorded step by step
through the workflow — dated after 2022-03-31 so that the report's years stay
exact.
Loading twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import polars as pl
from sqlalchemy import func, select

from kumin.cards import service, service_records
from kumin.cards.models import Card
from kumin.cards.windows import DEFAULT_WINDOWS
from kumin.cards.windows_io import COLUMNS as WINDOW_COLUMNS
from kumin.cards.windows_io import window_to_row
from kumin.core.context import Ctx
from kumin.core.permissions import Actor
from kumin.core.tabular import csv_bytes

DEMO_OFFICER = Actor("demo-records", "records_officer")
DEMO_NAMES = (
    "世田 太郎",
    "北沢 花子",
    "玉川 一郎",
    "砧 さくら",
    "烏山 健",
    "用賀 美咲",
    "経堂 翔",
    "三茶 陽菜",
)


def already_loaded(ctx: Ctx) -> bool:
    return bool(ctx.session.scalar(select(func.count()).where(Card.source == "import")))


def load_demo(ctx: Ctx, seed: int, progress) -> None:
    """Load the synthetic card and Juki-net records (about 20 s on SQLite)."""
    from kumin.cards.history import write_history
    from kumin.synth.card_figures import NOT_ITEMISED
    from kumin.synth.cards import synthetic_card_records
    from kumin.synth.demo_year import demo_year

    officer = Ctx(ctx.session, ctx.settings, DEMO_OFFICER)
    if already_loaded(officer):
        return
    task = progress.add_task("マイナンバーカード / My Number cards", total=100)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        windows = folder / "windows.csv"
        windows.write_bytes(
            csv_bytes(
                WINDOW_COLUMNS,
                ([window_to_row(w)[c] for c in WINDOW_COLUMNS] for w in DEFAULT_WINDOWS),
            )
        )
        service_records.import_windows(officer, windows)
        service_records.add_function(
            officer,
            NOT_ITEMISED.code,
            NOT_ITEMISED.name_ja,
            NOT_ITEMISED.name_en,
            NOT_ITEMISED.department,
        )
        # section 4's inquiries made by the Juki-net departments' listed operators, as
        # the demo's operation logs record them (kumin.synth.demo_year)
        records = replace(synthetic_card_records(seed), inquiries=demo_year(seed).inquiries)
        progress.update(task, completed=15)
        # through the path a ward's own export takes: a history folder written as
        # a card-management system might (Japanese headers, codes and era dates)
        history = folder / "history"
        write_history(records, history, japanese=True)
        progress.update(task, completed=25)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=25 + 70 * done / max(total, 1))

        service_records.import_history(officer, history, progress=tick)
    _workflow_examples(officer, records.cards)
    national = _national_dir()
    if national is not None:
        service_records.import_national(officer, national)
    else:  # a fresh clone: the generator's snapshots, so /cards/national opens on figures
        from kumin.synth.national import write_national_snapshots

        with tempfile.TemporaryDirectory() as tmp:
            service_records.import_national(officer, write_national_snapshots(Path(tmp), seed))
    progress.update(task, completed=100)


def _national_dir() -> Path | None:
    """The Ministry's figures beside the clone (../shared/data), or KUMIN_SHARED_DATA."""
    explicit = os.environ.get("KUMIN_SHARED_DATA")
    root = Path(explicit) if explicit else Path(__file__).resolve().parents[4] / "shared" / "data"
    folder = root / "mynumbercard_statistics"
    return folder if folder.is_dir() else None


def _workflow_examples(ctx: Ctx, cards: pl.DataFrame) -> None:
    """A few residents and cards at every workflow stage, in April 2022."""
    residents = cards["resident_no"].unique().sort().head(len(DEMO_NAMES)).to_list()
    for i, (no, name) in enumerate(zip(residents, DEMO_NAMES, strict=True)):
        service.register_resident(
            ctx, no, name, dt.date(1950 + 7 * i, 1 + i, 10 + i), f"世田谷区北沢{i + 1}丁目"
        )
    at = dt.datetime(2022, 4, 4, 11, 0)  # a Monday
    hour = dt.timedelta(hours=1)
    day = dt.timedelta(days=1)
    # visit-at-issuance: applied by web, prepared, collected at the card centre
    c = service.apply(ctx, residents[0], "web", at)["card_id"]
    service.prepare(ctx, c, at + 7 * day)
    service.arrive(ctx, c, "card_centre", at + 9 * day)
    service.check_identity(ctx, c, "match", ["driving_licence"], at + 9 * day + hour / 6)
    service.applicant_set_pins(ctx, c, at + 9 * day + hour / 4)
    service.issue(ctx, c, at + 9 * day + hour / 3)
    # visit-at-application: taken at a window, PINs set by the ward, mailed, delivered
    c = service.apply_at_window(
        ctx, residents[1], "card_centre", "no_match", ["passport", "health_insurance_card"], at
    )["card_id"]
    service.hold_form(ctx, c, at + hour / 6)
    service.ward_set_pins(ctx, c, at + 14 * day)
    service.shred_form(ctx, c, "demo-records", at + 14 * day + hour)
    service.mail(ctx, c, "RD123456789JP", at + 15 * day)
    service.deliver(ctx, c, at + 17 * day)
    # in progress: one prepared and awaiting collection, one in the post, one applied
    c = service.apply(ctx, residents[2], "mail", at)["card_id"]
    service.prepare(ctx, c, at + 8 * day)
    c = service.apply_at_window(
        ctx, residents[3], "branch_offices", "match", ["residence_card"], at + day
    )["card_id"]
    service.hold_form(ctx, c, at + day + hour / 6)
    service.ward_set_pins(ctx, c, at + 15 * day)
    service.shred_form(ctx, c, "demo-records", at + 15 * day + hour / 2)
    service.mail(ctx, c, None, at + 16 * day)
    service.apply(ctx, residents[4], "photo_booth", at + 2 * day)
    # a form shredded three days after the PINs were set: section 7 of FY2022 lists it
    c = service.apply_at_window(
        ctx,
        residents[5],
        "card_centre",
        "match",
        ["health_insurance_card", "pension_book"],
        at + 2 * day + hour / 2,
    )["card_id"]
    service.hold_form(ctx, c, at + 2 * day + hour)
    service.ward_set_pins(ctx, c, at + 16 * day)
    service.shred_form(ctx, c, "demo-records", at + 19 * day)
    service.mail(ctx, c, None, at + 19 * day + hour)
