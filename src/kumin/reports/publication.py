"""Publishing the yearly security report, re-opening its year, and what changed since.

:func:`publish_security` stores the report of a fiscal year as published — every
section, in Japanese and English, as canonical JSON with its SHA-256 — and closes
the year (:mod:`kumin.core.closures`). :func:`reopen_security` re-opens it with a
reason. The report of a published year then shows the published figures, and
:func:`differences` lists every cell and text line where the figures recomputed
from today's data differ from what was published (late operation logs, or
corrections made while the year was re-opened). Only aggregates are stored: the
sections never hold a personal value.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from kumin.core import closures
from kumin.core.context import Ctx
from kumin.core.i18n import t

LANGS = ("ja", "en")


def _current(ctx: Ctx, fy: int, lang: str) -> list:
    """The sections recomputed from today's data (cached while the data are unchanged)."""
    from kumin.reports.security import _load_providers, _stored_sections

    _load_providers()
    return _stored_sections(ctx, fy, lang)


def _canonical(content: dict[str, Any]) -> bytes:
    # sorted keys and fixed separators: the same content always hashes the same
    return json.dumps(
        content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode("utf-8")


def _sections_of(content: dict[str, Any], lang: str) -> list:
    from kumin.reports.sections import ReportSection, ReportTable

    return [
        ReportSection(**{**d, "tables": [ReportTable(**tb) for tb in d["tables"]]})
        for d in content["sections"][lang]
    ]


def publish_security(ctx: Ctx, fy: int) -> dict[str, Any]:
    """Publish ``fy``'s security report and close the year (audited)."""
    from kumin.reports.sections import jsonable
    from kumin.reports.security import check_fy

    ctx.authorize("security.publish", object=f"report:security:FY{fy}")
    check_fy(fy)
    content = {
        "report": "security",
        "fy": fy,
        "sections": {
            lang: jsonable([asdict(s) for s in _current(ctx, fy, lang)]) for lang in LANGS
        },
    }
    row = closures.publish(ctx.session, fy, ctx.actor.name, _canonical(content))
    ctx.audit(
        "security.publish",
        f"report:security:FY{fy}",
        number=row.number,
        sha256=row.sha256,
    )
    return _event_dict(row)


def reopen_security(ctx: Ctx, fy: int, reason: str) -> dict[str, Any]:
    """Re-open a published year so that corrections can be recorded (audited, with why)."""
    from kumin.reports.security import check_fy

    ctx.authorize("security.reopen", object=f"report:security:FY{fy}")
    check_fy(fy)
    row = closures.reopen(ctx.session, fy, ctx.actor.name, reason)
    ctx.audit(
        "security.reopen",
        f"report:security:FY{fy}",
        number=row.number,
        reason=row.reason,
    )
    return _event_dict(row)


def _event_dict(row) -> dict[str, Any]:
    return {
        "fy": row.fy,
        "event": row.event,
        "number": row.number,
        "sha256": row.sha256,
        "actor": row.actor,
        "at": row.at.replace(microsecond=0).isoformat() if row.at else None,
        "reason": row.reason,
    }


def status(ctx: Ctx, fy: int) -> dict[str, Any]:
    """The year's closure state and every publication and re-opening (no content)."""
    ctx.authorize("security.report")
    state = closures.year_state(ctx.session, fy)
    return {
        "fy": fy,
        "closed": state.closed,
        "publication": state.publication,
        "history": [_event_dict(e) for e in closures.events(ctx.session, fy)],
    }


def attach(ctx: Ctx, fy: int, lang: str, current: list) -> tuple[list, dict | None, list]:
    """``(sections to show, publication info, differences)`` for the report of ``fy``.

    A closed year shows its published sections; a re-opened one today's figures.
    Either way the differences from the latest publication are listed.
    """
    info = status(ctx, fy)
    info["state"] = state_text(info, lang)
    row = closures.latest_publication(ctx.session, fy)
    if row is None:
        return current, (info if info["history"] else None), []
    content = json.loads(row.body)
    published = _sections_of(content, lang)
    info["verified"] = closures.sha256(row.body) == row.sha256
    info["sha256"] = row.sha256
    diff = differences(published, current, lang)
    return (published if info["closed"] else current), info, diff


def _cells(section) -> dict[tuple, tuple[str, str]]:
    """(table, row label, occurrence, column) -> (item label, shown text) of a section."""
    out: dict[tuple, tuple[str, str]] = {}
    for tb in section.tables:
        seen: dict[str, int] = {}
        for row in tb.rows:
            label = str(row[0]) if row else ""
            k = seen[label] = seen.get(label, -1) + 1
            for c, cell in enumerate(row[1:], start=1):
                head = tb.header[c] if c < len(tb.header) else str(c)
                item = " / ".join(p for p in (tb.title, label, head) if p)
                out[(tb.key, label, k, c)] = (item, "" if cell is None else str(cell))
    return out


def differences(published: list, current: list, lang: str) -> list[dict[str, str]]:
    """Every table cell and text line that differs: section, item, published, now."""
    out: list[dict[str, str]] = []
    now_by_key = {(s.key, s.number): s for s in current}
    pub_by_key = {(s.key, s.number): s for s in published}
    para = t("closures.publication.paragraph", lang)
    for key in list(pub_by_key) + [k for k in now_by_key if k not in pub_by_key]:
        pub, now = pub_by_key.get(key), now_by_key.get(key)
        ref = pub or now
        name = f"{ref.number} {ref.subtitle or ref.title}".strip()
        a = _cells(pub) if pub else {}
        b = _cells(now) if now else {}
        for cell in list(a) + [c for c in b if c not in a]:
            before, after = a.get(cell, ("", "")), b.get(cell, ("", ""))
            if before[1] != after[1]:
                item = before[0] or after[0]
                out.append({"section": name, "item": item, "published": before[1], "now": after[1]})
        lines_a = list(pub.paragraphs + pub.notes) if pub else []
        lines_b = list(now.paragraphs + now.notes) if now else []
        for line in lines_a:
            if line not in lines_b:
                out.append({"section": name, "item": para, "published": line, "now": ""})
        for line in lines_b:
            if line not in lines_a:
                out.append({"section": name, "item": para, "published": "", "now": line})
    return out


def state_text(info: dict[str, Any] | None, lang: str) -> str:
    """One line naming the year's state, for the report's heading."""
    if not info or not info["history"]:
        return t("closures.publication.state_open", lang)
    last = info["history"][-1]
    key = "state_closed" if last["event"] == closures.PUBLISHED else "state_reopened"
    return t(
        f"closures.publication.{key}",
        lang,
        number=last["number"],
        at=last["at"],
        actor=last["actor"],
        reason=last["reason"],
    )
