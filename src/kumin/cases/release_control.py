"""Disclosure control as a release applies it: the contract's settings, the records
as the release would hold them, the risk before and after, and the preview.

:func:`control_release` is called by :func:`kumin.cases.releases.create_release` on
the minimised records; :func:`preview_release` runs the same steps and writes
nothing but its audit entry (it reads personal fields such as nationality).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from kumin.cases import disclosure
from kumin.cases.contracts import contract_dict, control_of, find_contract, persons_filter
from kumin.cases.imports import read_personal
from kumin.cases.minimise import minimise_record, release_fields
from kumin.cases.models import CaseRow
from kumin.cases.parse import CaseRecord
from kumin.core.context import Ctx

#: The keys of a risk summary shown at the top of a preview and a manifest.
RISK_KEYS = (
    "quasi_identifiers",
    "k",
    "records_at_risk",
    "records_at_risk_share",
    "prosecutor_risk",
    "average_risk",
    "l_diversity",
    "classes",
    "records",
    "target_k",
)


def level_label(generalisation: dict[str, Any], lang: str | None = None) -> str:
    """A generalisation level in words (``"月"``, ``"area"``), else its code."""
    from kumin.core.i18n import t

    if generalisation["level"] == 0:
        key = "cases.disclosure.level_kept"
    elif generalisation["name"] == disclosure.WITHHELD:
        key = "cases.disclosure.level_withheld"
    else:
        key = f"cases.disclosure.level_{generalisation['name']}"
    text = t(key, lang)
    return generalisation["name"] if text == key else text


@dataclass
class Controlled:
    """Records after disclosure control, and what was done to them."""

    records: list[dict[str, Any]]  # released records, generalised, suppressed ones gone
    report: dict[str, Any]  # settings, risk before and after, scheme, loss, suppressed


def _columns(records: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    return {n: [r[n] for r in records] for n in names}


def control_release(
    ctx: Ctx, contract: Any, records: list[dict[str, Any]], ages: Sequence[Any]
) -> Controlled:
    """Measure the risk of ``records`` and bring them to the contract's k.

    Raises :class:`~kumin.errors.StateError` when k cannot be reached within the
    contract's suppression limit.
    """
    settings = control_of(contract)
    qis, sensitive, k = settings["quasi_identifiers"], settings["sensitive"], settings["k"]
    dirs = [str(ctx.settings.profile_dir)] if ctx.settings.profile_dir else []
    hierarchies = disclosure.load_hierarchies(settings["hierarchy"], dirs)
    columns = _columns(records, [*qis, *sensitive])
    before = disclosure.risk_measures(columns, qis, sensitive, k)
    result = disclosure.anonymise(
        columns, qis, hierarchies, k=k, max_suppression=settings["max_suppression"], ages=ages
    )
    kept: list[dict[str, Any]] = []
    for i, record in enumerate(records):
        if result.suppressed[i]:
            continue
        kept.append({**record, **{q: result.columns[q][i] for q in qis}})
    after = disclosure.risk_measures(_columns(kept, [*qis, *sensitive]), qis, sensitive, k)
    report = {
        **{key: after[key] for key in RISK_KEYS},
        "disclosure": {
            "target_k": k,
            "max_suppression": settings["max_suppression"],
            "quasi_identifiers": qis,
            "sensitive": sensitive,
            "hierarchy": {"name": hierarchies.name, "sha256": hierarchies.sha256},
            "before": before,
            "after": after,
            "generalisation": result.scheme_by_column(hierarchies, qis),
            "scheme": result.scheme,
            "precision_loss": result.precision_loss,
            "information_loss": result.information_loss,
            "suppressed_records": int(result.suppressed.sum()),
            "lattice": {"nodes": result.lattice, "evaluated": result.nodes},
        },
    }
    return Controlled(kept, report)


def record_of(row: CaseRow, personal: dict[str, str]) -> CaseRecord:
    """A stored record with its decrypted personal fields, as the parser gives it."""
    birth = personal.get("birth_date")
    return CaseRecord(
        hersys_id=personal["hersys_id"],
        birth_date=dt.date.fromisoformat(birth) if birth else None,
        age_band=row.age_band,
        sex=row.sex,
        nationality=personal.get("nationality"),
        residence=personal.get("residence"),
        address=personal.get("address"),
        town=row.town,
        onset_date=row.onset_date,
        first_visit_date=row.first_visit_date,
        specimen_date=row.specimen_date,
        result_date=row.result_date,
        report_date=row.report_date,
        symptoms=personal.get("symptoms"),
        asymptomatic=row.asymptomatic,
        vaccine_doses=row.vaccine_doses,
        care_setting=row.care_setting,
        imported=row.imported,
        age_years=row.age_years,
    )


def minimised_records(
    ctx: Ctx, contract: Any, key: bytes, batch: int = 2000
) -> tuple[list[dict[str, Any]], list[Any]]:
    """The contract's records as a release holds them (before control), with ages."""
    items = contract_dict(ctx, contract)["items"]
    stmt = (
        select(CaseRow)
        .where(*persons_filter(contract))
        .order_by(CaseRow.id)
        .execution_options(yield_per=batch)
    )
    records, ages = [], []
    for row in ctx.session.scalars(stmt):
        record = record_of(row, read_personal(ctx, row.personal))
        records.append(minimise_record(record, items, key))
        ages.append(row.age_years)
    return records, ages


def preview_release(ctx: Ctx, ref: str | int) -> dict[str, Any]:
    """The risk of a contract's release and the control kumin would apply; writes nothing.

    Top-level keys describe the extract as it stands (before control);
    ``proposed`` holds the generalisation, the suppressed records and the risk after.
    """
    ctx.authorize("release.create")
    contract = find_contract(ctx, ref)
    # A throwaway key: the preview shows no pseudonym and keeps none.
    records, ages = minimised_records(ctx, contract, bytes(32))
    ctx.audit(
        "cases.read",
        f"contract:{contract.id}",
        purpose=f"release preview under contract {contract.code}",
        records=len(records),
    )
    controlled = control_release(ctx, contract, records, ages)
    info = controlled.report["disclosure"]
    before = info["before"]
    out = {
        "contract": contract.code,
        "fields": release_fields(contract_dict(ctx, contract)["items"]),
    }
    out.update({key: before[key] for key in RISK_KEYS})
    out["sensitive"] = info["sensitive"]
    out["proposed"] = {
        "generalisation": info["generalisation"],
        "suppressed_records": info["suppressed_records"],
        "max_suppression": info["max_suppression"],
        "information_loss": info["information_loss"],
        "precision_loss": info["precision_loss"],
        "hierarchy": info["hierarchy"],
        **{key: info["after"][key] for key in RISK_KEYS},
    }
    return out
