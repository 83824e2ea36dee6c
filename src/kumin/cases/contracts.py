"""Research contracts: who receives which items of the notification records, for
what, under which pledge, and for how long (report No. 350, items 1-10).

A contract names its contractors (several), the items provided (report item
names such as ``年代`` or record field names), the pledge conditions, the period
and the ``researcher`` accounts that may download its releases during that
period. Contracts and pledges are kept in the cases domain (tables in
:mod:`kumin.cases.models`).
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from kumin.cases import disclosure
from kumin.cases.minimise import REPORT_ITEMS, release_fields
from kumin.cases.models import CaseRow, Contract, ContractResearcher, Disposal, Release
from kumin.core.context import Ctx
from kumin.core.models import User
from kumin.errors import NotFound, UserError

#: The pledge of report No. 350 (個人情報の取扱いに関する誓約書), as condition codes.
DEFAULT_CONDITIONS = ("purpose_limitation", "no_copying", "disposal_on_completion", "duty_of_care")
#: The items of report No. 350, in its order.
REPORT_350_ITEMS = tuple(REPORT_ITEMS)


@dataclass
class ContractInput:
    """Everything ``kumin contracts add`` records; dates are inclusive."""

    title: str
    start: dt.date
    end: dt.date
    contractors: list[str]
    items: list[str]
    code: str | None = None
    category: str = ""
    purpose: str = ""
    content: str = ""
    persons: str = ""
    persons_from: dt.date | None = None
    persons_to: dt.date | None = None
    conditions: list[str] = field(default_factory=lambda: list(DEFAULT_CONDITIONS))
    computer_processing: bool = True
    protection: str = ""
    researchers: list[str] = field(default_factory=list)
    #: disclosure control: ``None`` = the defaults among the released items
    quasi_identifiers: list[str] | None = None
    sensitive: list[str] | None = None
    k: int = disclosure.DEFAULT_K
    max_suppression: float = disclosure.DEFAULT_MAX_SUPPRESSION
    hierarchy: str = disclosure.DEFAULT_HIERARCHY


def _clean_list(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        v = str(v).strip()
        if v and v not in out:
            out.append(v)
    return out


def _next_code(ctx: Ctx, start: dt.date) -> str:
    count = ctx.session.scalar(select(func.count()).select_from(Contract)) or 0
    while True:
        count += 1
        code = f"C{start.year}-{count:03d}"
        if ctx.session.scalar(select(Contract.id).where(Contract.code == code)) is None:
            return code


def add_contract(ctx: Ctx, data: ContractInput) -> dict[str, Any]:
    """Record a contract; every researcher named must be a ``researcher`` account."""
    ctx.authorize("contracts.manage")
    title = data.title.strip()
    if not title:
        raise UserError("cases.contract.no_title")
    if data.end < data.start:
        raise UserError("cases.contract.bad_period", start=data.start, end=data.end)
    if data.persons_from and data.persons_to and data.persons_to < data.persons_from:
        raise UserError("cases.contract.bad_period", start=data.persons_from, end=data.persons_to)
    contractors = _clean_list(data.contractors)
    if not contractors:
        raise UserError("cases.contract.no_contractor")
    items = _clean_list(data.items)
    if not items:
        raise UserError("cases.contract.no_items")
    release_fields(items)  # raises naming an unknown item
    researchers = _clean_list(data.researchers)
    for name in researchers:
        user = ctx.session.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound("core.users.not_found", name=name)
        if user.role != "researcher":
            raise UserError("cases.contract.not_researcher", name=name)
    control = _check_control(ctx, data, release_fields(items))
    code = (data.code or "").strip() or _next_code(ctx, data.start)
    if ctx.session.scalar(select(Contract.id).where(Contract.code == code)) is not None:
        raise UserError("cases.contract.exists", code=code)
    contract = Contract(
        code=code,
        category=data.category.strip(),
        title=title,
        purpose=data.purpose.strip(),
        content=data.content.strip(),
        persons=data.persons.strip(),
        persons_from=data.persons_from,
        persons_to=data.persons_to,
        contractors=json.dumps(contractors, ensure_ascii=False),
        items=json.dumps(items, ensure_ascii=False),
        conditions=json.dumps(_clean_list(data.conditions), ensure_ascii=False),
        computer_processing=data.computer_processing,
        protection=data.protection.strip(),
        start_date=data.start,
        end_date=data.end,
        created_by=ctx.actor.name,
        **control,
    )
    ctx.session.add(contract)
    ctx.session.flush()
    for name in researchers:
        ctx.session.add(ContractResearcher(contract_id=contract.id, account=name))
    ctx.session.flush()
    ctx.audit(
        "contracts.add",
        f"contract:{contract.id}",
        purpose="research outsourcing",
        code=code,
        start=data.start,
        end=data.end,
        items=items,
        contractors=len(contractors),
        researchers=researchers,
        k=control["k_anonymity"],
        max_suppression=control["max_suppression"],
        hierarchy=control["hierarchy"],
    )
    return contract_dict(ctx, contract)


def item_field(item: str) -> str:
    """The released column of a contract item (report item name or field name)."""
    folded = unicodedata.normalize("NFKC", str(item)).strip().replace("(", "（")
    fld = REPORT_ITEMS.get(folded.replace(")", "）"), str(item).strip())
    return {"hersys_id": "pseudonym", "address": "town"}.get(fld, fld)


def _declared(values: list[str] | None, fields: list[str], key: str) -> list[str] | None:
    if values is None:
        return None
    out = []
    for item in _clean_list(values):
        name = item_field(item)
        if name not in fields or name == "pseudonym":
            raise UserError(key, item=item, fields=", ".join(fields))
        if name not in out:
            out.append(name)
    return out


def _check_control(ctx: Ctx, data: ContractInput, fields: list[str]) -> dict[str, Any]:
    """The contract's disclosure settings, checked; column values for :class:`Contract`."""
    k = data.k
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
        raise UserError("cases.disclosure.contract_bad_k", got=k)
    share = float(data.max_suppression)
    if not 0.0 <= share <= 1.0:
        raise UserError("cases.disclosure.contract_bad_suppression", got=data.max_suppression)
    qis = _declared(data.quasi_identifiers, fields, "cases.disclosure.bad_qi")
    sensitive = _declared(data.sensitive, fields, "cases.disclosure.bad_sensitive")
    both = set(qis or ()) & set(sensitive or ())
    if both:
        raise UserError("cases.disclosure.qi_and_sensitive", items=", ".join(sorted(both)))
    name = (data.hierarchy or disclosure.DEFAULT_HIERARCHY).strip()
    dirs = [str(ctx.settings.profile_dir)] if ctx.settings.profile_dir else []
    hierarchies = disclosure.load_hierarchies(name, dirs)
    for q in qis or ():
        hierarchies.dimension_of(q)  # raises naming a QI the hierarchy cannot generalise
    return {
        "quasi_identifiers": None if qis is None else json.dumps(qis),
        "sensitive": None if sensitive is None else json.dumps(sensitive),
        "k_anonymity": k,
        "max_suppression": share,
        "hierarchy": name,
    }


def control_of(contract: Contract) -> dict[str, Any]:
    """The disclosure settings of a contract, defaults resolved against its released items.

    Quasi-identifiers and sensitive items are released column names (as in ``cases.csv``).
    """
    fields = release_fields(json.loads(contract.items))
    if contract.quasi_identifiers is None:
        qis = [f for f in fields if f in disclosure.DEFAULT_QUASI_IDENTIFIERS]
    else:
        qis = [f for f in json.loads(contract.quasi_identifiers) if f in fields]
    if contract.sensitive is None:
        sensitive = [f for f in fields if f in disclosure.DEFAULT_SENSITIVE and f not in qis]
    else:
        sensitive = [f for f in json.loads(contract.sensitive) if f in fields]
    return {
        "quasi_identifiers": qis,
        "sensitive": sensitive,
        "k": int(
            contract.k_anonymity if contract.k_anonymity is not None else disclosure.DEFAULT_K
        ),
        "max_suppression": float(
            contract.max_suppression
            if contract.max_suppression is not None
            else disclosure.DEFAULT_MAX_SUPPRESSION
        ),
        "hierarchy": contract.hierarchy or disclosure.DEFAULT_HIERARCHY,
    }


def find_contract(ctx: Ctx, ref: str | int) -> Contract:
    """A contract by code, or by id when ``ref`` is all digits and no code matches."""
    text = str(ref).strip()
    contract = ctx.session.scalar(select(Contract).where(Contract.code == text))
    if contract is None and text.isdigit():
        contract = ctx.session.get(Contract, int(text))
    if contract is None:
        raise NotFound("cases.contract.not_found", ref=text)
    return contract


def researchers_of(ctx: Ctx, contract_id: int) -> list[str]:
    return list(
        ctx.session.scalars(
            select(ContractResearcher.account)
            .where(ContractResearcher.contract_id == contract_id)
            .order_by(ContractResearcher.account)
        )
    )


def persons_filter(contract: Contract) -> list[Any]:
    """SQL conditions selecting the records of the contract's range of persons.

    A record belongs when its notification (report date, else result date) lies
    in ``persons_from..persons_to``; without a range, every record does.
    """
    day = func.coalesce(CaseRow.report_date, CaseRow.result_date)
    conditions = []
    if contract.persons_from is not None:
        conditions.append(day >= contract.persons_from)
    if contract.persons_to is not None:
        conditions.append(day <= contract.persons_to)
    return conditions


def record_count(ctx: Ctx, contract: Contract) -> int:
    """The number of records the contract covers, counted from the data."""
    stmt = select(func.count()).select_from(CaseRow).where(*persons_filter(contract))
    return int(ctx.session.scalar(stmt) or 0)


def status_of(contract: Contract, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    if contract.disposed_at is not None:
        return "disposed"
    if today < contract.start_date:
        return "pending"
    if today > contract.end_date:
        return "ended"
    return "active"


def contract_dict(ctx: Ctx, contract: Contract) -> dict[str, Any]:
    return {
        "id": contract.id,
        "code": contract.code,
        "category": contract.category,
        "title": contract.title,
        "purpose": contract.purpose,
        "content": contract.content,
        "persons": contract.persons,
        "persons_from": contract.persons_from,
        "persons_to": contract.persons_to,
        "contractors": json.loads(contract.contractors),
        "items": json.loads(contract.items),
        "conditions": json.loads(contract.conditions),
        "computer_processing": contract.computer_processing,
        "protection": contract.protection,
        "start": contract.start_date,
        "end": contract.end_date,
        "researchers": researchers_of(ctx, contract.id),
        "status": status_of(contract),
        "created_by": contract.created_by,
        "created_at": contract.created_at,
        "disposed_at": contract.disposed_at,
        "disclosure": control_of(contract),
    }


def list_contracts(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.authorize("contracts.read")
    contracts = ctx.session.scalars(select(Contract).order_by(Contract.start_date, Contract.id))
    return [contract_dict(ctx, c) for c in contracts]


def show_contract(ctx: Ctx, ref: str | int) -> dict[str, Any]:
    """A contract with its releases and disposal certificates."""
    ctx.authorize("contracts.read")
    contract = find_contract(ctx, ref)
    body = contract_dict(ctx, contract)
    body["record_count"] = record_count(ctx, contract)
    body["releases"] = [
        {
            "id": r.id,
            "records": r.records,
            "created_by": r.created_by,
            "created_at": r.created_at,
            "disposed_at": r.disposed_at,
        }
        for r in ctx.session.scalars(
            select(Release).where(Release.contract_id == contract.id).order_by(Release.id)
        )
    ]
    body["disposals"] = [
        {"id": d.id, "number": d.number, "reason": d.reason, "disposed_at": d.disposed_at}
        for d in ctx.session.scalars(
            select(Disposal).where(Disposal.contract_id == contract.id).order_by(Disposal.id)
        )
    ]
    return body


def condition_label(condition: str, lang: str) -> str:
    """A pledge condition in words (codes of :data:`DEFAULT_CONDITIONS`, else as written)."""
    from kumin.core.i18n import t

    if condition in DEFAULT_CONDITIONS:
        return t(f"cases.condition.{condition}", lang)
    return condition
