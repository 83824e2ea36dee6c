"""Housekeeping: dispose of the releases of every contract whose end date has
passed. Runs from ``kumin housekeeping`` and at the start of ``kumin serve``
(:func:`run_housekeeping`), so disposal happens on the first run after the end
date even when nobody remembers it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kumin.cases.releases import dispose_expired
from kumin.core.config import Settings
from kumin.core.context import Ctx, context
from kumin.core.db import is_initialised
from kumin.core.permissions import SYSTEM


def housekeeping(ctx: Ctx, today: dt.date | None = None) -> dict[str, Any]:
    """Run every housekeeping task; returns what was done."""
    ctx.authorize("housekeeping.run")
    ctx.audit("housekeeping.run", "housekeeping")
    return {"disposed": dispose_expired(ctx, today)}


def run_housekeeping(settings: Settings, today: dt.date | None = None) -> dict[str, Any]:
    """Housekeeping as ``system`` in its own transaction (called by ``kumin serve``)."""
    if not is_initialised(settings):
        return {"disposed": []}
    with context(settings, SYSTEM) as ctx:
        return housekeeping(ctx, today)
