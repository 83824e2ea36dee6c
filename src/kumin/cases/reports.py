"""Documents of the cases domain: the outsourcing report in the shape of report
No. 350 (items 1-10, the record count computed from the data) and the disposal
certificate issued when a contract's releases are destroyed.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from kumin.cases.contracts import condition_label, find_contract, record_count, show_contract
from kumin.cases.minimise import REPORT_ITEMS
from kumin.cases.models import Release
from kumin.cases.release_control import level_label
from kumin.core.context import Ctx
from kumin.reports.render import check_report_format, era_date, html_to_pdf, render_html

OUTSOURCING_FORMATS = ("html", "pdf", "md")
_FIELD_ITEM = {v: k for k, v in REPORT_ITEMS.items()}


def item_label(item: str, lang: str) -> str:
    """A contract item as the report names it (field names become report item names)."""
    if lang == "ja":
        return _FIELD_ITEM.get(item, item)
    return item


def _period(start: dt.date, end: dt.date, lang: str) -> str:
    if lang == "ja":
        return f"{era_date(start)}から{era_date(end)}まで"
    return f"{start.isoformat()} to {end.isoformat()}"


#: Risk measures the report shows before and after control, in order.
MEASURES = ("records", "classes", "k", "records_at_risk", "prosecutor_risk", "average_risk")


def release_controls(ctx: Ctx, contract_id: int) -> list[dict[str, Any]]:
    """Per release of a contract: risk before and after, generalisation, withheld records.

    Read from each release's manifest (kept after disposal: it holds no personal value).
    """
    out = []
    stmt = select(Release).where(Release.contract_id == contract_id).order_by(Release.id)
    for release in ctx.session.scalars(stmt):
        info = json.loads(release.manifest or "{}").get("disclosure")
        if not info:
            continue  # made before disclosure control existed
        out.append(
            {
                "id": release.id,
                "created": release.created_at.date(),
                "records": release.records,
                "quasi_identifiers": info["quasi_identifiers"],
                "measures": [(m, info["before"].get(m), info["after"].get(m)) for m in MEASURES],
                "l_diversity": [
                    (s, info["before"]["l_diversity"].get(s), info["after"]["l_diversity"].get(s))
                    for s in info["sensitive"]
                ],
                "generalisation": info["generalisation"],
                "suppressed": info["suppressed_records"],
                "limit": info["max_suppression"],
                "target_k": info["target_k"],
                "loss": info["information_loss"],
                "hierarchy": info["hierarchy"]["name"],
            }
        )
    return out


def _measure(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else f"{value:,}"


def outsourcing_context(ctx: Ctx, ref: str | int, lang: str) -> dict[str, Any]:
    info = show_contract(ctx, ref)
    contract = find_contract(ctx, ref)
    count = record_count(ctx, contract)
    persons = info["persons"]
    if not persons and (info["persons_from"] or info["persons_to"]):
        persons = _period(
            info["persons_from"] or info["start"], info["persons_to"] or info["end"], lang
        )
    return {
        "c": info,
        "count": count,
        "persons": persons,
        "items": [item_label(i, lang) for i in info["items"]],
        "conditions": [condition_label(c, lang) for c in info["conditions"]],
        "period": _period(info["start"], info["end"], lang),
        "today": dt.date.today(),
        "era": era_date,
        "controls": release_controls(ctx, info["id"]),
        "measure": _measure,
        "level": lambda g: level_label(g, lang),
    }


def outsourcing_report(ctx: Ctx, ref: str | int, fmt: str = "html", lang: str = "ja") -> bytes:
    """The report of an outsourcing contract (items 1-10 of report No. 350)."""
    ctx.authorize("contracts.read")
    check_report_format(fmt, OUTSOURCING_FORMATS)
    context = outsourcing_context(ctx, ref, lang)
    ctx.audit(
        "report.outsourcing", f"contract:{context['c']['id']}", format=fmt, count=context["count"]
    )
    if fmt == "md":
        return render_html("cases/outsourcing.md", lang, **context).encode("utf-8")
    html = render_html("cases/outsourcing.html", lang, **context)
    return html_to_pdf(html) if fmt == "pdf" else html.encode("utf-8")


def disposal_certificate_html(
    contract: dict[str, Any],
    releases: list[dict[str, Any]],
    number: str,
    when: dt.datetime,
    reason: str,
    actor: str,
) -> str:
    """The disposal certificate (Japanese), rendered once and kept with the disposal."""
    return render_html(
        "cases/disposal_certificate.html",
        "ja",
        c=contract,
        releases=releases,
        number=number,
        when=when,
        day=when.date(),
        reason=reason,
        actor=actor,
        era=era_date,
        conditions=[condition_label(x, "ja") for x in contract["conditions"]],
    )
