"""Minimised releases under a contract, their download by named researchers, and
their disposal.

A release holds only the contract's items: the HER-SYS ID becomes a keyed
pseudonym under a key derived from the release's own dataset key
(``release:<id>``), so the same person has the same pseudonym within a release and
an unrelated one in any other; the birth date goes unless the contract lists it
(the age band stays); the address is cut to the town. Its files (``cases.csv``,
``manifest.json``, cover sheets in Japanese and English) are stored encrypted
under that key. Disposal destroys the key and the stored files, deletes the
copies written with ``--out`` and issues a disposal certificate.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kumin.cases.contracts import (
    condition_label,
    contract_dict,
    find_contract,
    researchers_of,
    status_of,
)
from kumin.cases.minimise import release_fields
from kumin.cases.models import (
    Contract,
    ContractResearcher,
    Disposal,
    Release,
    ReleaseFile,
    release_dataset,
)
from kumin.cases.release_control import control_release, level_label, minimised_records
from kumin.core import audit
from kumin.core.context import Ctx
from kumin.core.db import utcnow
from kumin.core.tabular import atomic_write_bytes, csv_bytes
from kumin.errors import NotFound, PermissionDenied, StateError

CSV_NAME = "cases.csv"
MANIFEST_NAME = "manifest.json"
COVER_NAMES = {"ja": "cover_sheet_ja.txt", "en": "cover_sheet_en.txt"}
MEDIA_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
_BATCH = 2000


@dataclass
class ReleaseResult:
    release_id: int
    contract: str
    records: int
    fields: list[str]
    files: list[dict[str, Any]]
    out_dir: str | None


def _today() -> dt.date:
    return dt.date.today()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _cover_sheet(lang: str, contract: dict[str, Any], manifest: dict[str, Any]) -> str:
    from kumin.reports.render import render_html

    return render_html(
        "cases/cover_sheet.txt",
        lang,
        contract=contract,
        manifest=manifest,
        conditions=[condition_label(c, lang) for c in contract["conditions"]],
        level=lambda g: level_label(g, lang),
    )


def create_release(ctx: Ctx, ref: str | int, out_dir: str | Path | None = None) -> ReleaseResult:
    """Write the minimised extract of a contract; store it encrypted; audit it.

    Refused (``StateError``) for a contract that has ended or been disposed of.
    """
    ctx.authorize("release.create")
    contract = find_contract(ctx, ref)
    status = status_of(contract, _today())
    if status in ("ended", "disposed"):
        raise StateError("cases.release.contract_closed", code=contract.code, status=status)
    info = contract_dict(ctx, contract)
    fields = release_fields(info["items"])
    release = Release(contract_id=contract.id, created_by=ctx.actor.name, fields=json.dumps(fields))
    ctx.session.add(release)
    ctx.session.flush()
    dataset = release_dataset(release.id)
    key = ctx.keyring.derived_key(dataset, "pseudonym")

    records, ages = minimised_records(ctx, contract, key, _BATCH)
    ctx.audit(
        "cases.read",
        f"release:{release.id}",
        purpose=f"release under contract {contract.code}",
        records=len(records),
    )
    # Disclosure control: generalise to the contract's k, withhold the outliers.
    controlled = control_release(ctx, contract, records, ages)
    rows: list[list[Any]] = []
    for out in controlled.records:
        rows.append([_cell(out[f]) for f in fields])
    files: dict[str, bytes] = {CSV_NAME: csv_bytes(fields, rows)}
    manifest = {
        "release": release.id,
        "contract": contract.code,
        "title": contract.title,
        "contractors": info["contractors"],
        "items": info["items"],
        "fields": fields,
        "record_count": len(rows),
        "period": {"start": contract.start_date.isoformat(), "end": contract.end_date.isoformat()},
        "persons": {
            "description": contract.persons,
            "from": contract.persons_from.isoformat() if contract.persons_from else None,
            "to": contract.persons_to.isoformat() if contract.persons_to else None,
        },
        "conditions": info["conditions"],
        "conditions_ja": [condition_label(c, "ja") for c in info["conditions"]],
        "conditions_en": [condition_label(c, "en") for c in info["conditions"]],
        "pseudonym": "HMAC-SHA256 under a key unique to this release, destroyed on disposal",
        "created_at": utcnow().isoformat(timespec="seconds"),
        **controlled.report,
        "files": [],
    }
    for lang, name in COVER_NAMES.items():
        files[name] = _cover_sheet(lang, info, manifest).encode("utf-8")
    manifest["files"] = [
        {"name": n, "sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)}
        for n, b in files.items()
    ]
    files[MANIFEST_NAME] = (
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    ).encode("utf-8")

    listing = []
    for name, data in files.items():
        digest = hashlib.sha256(data).hexdigest()
        ctx.session.add(
            ReleaseFile(
                release_id=release.id,
                name=name,
                media_type=MEDIA_TYPES[Path(name).suffix],
                size=len(data),
                sha256=digest,
                content=ctx.keyring.encrypt(dataset, base64.b64encode(data).decode("ascii")),
            )
        )
        listing.append({"name": name, "sha256": digest, "bytes": len(data)})
    if out_dir is not None:
        folder = Path(out_dir)
        for name, data in files.items():
            atomic_write_bytes(folder / name, data, mode=0o600)
        release.out_dir = str(folder.resolve())
    release.records = len(rows)
    release.manifest = files[MANIFEST_NAME].decode("utf-8")
    ctx.session.flush()
    ctx.audit(
        "release.create",
        f"release:{release.id}",
        purpose=f"contract {contract.code}",
        contract=contract.code,
        records=len(rows),
        fields=fields,
        files=listing,
        out_dir=release.out_dir is not None,
        k=controlled.report["k"],
        target_k=controlled.report["target_k"],
        generalisation={
            q: g["name"] for q, g in controlled.report["disclosure"]["generalisation"].items()
        },
        information_loss=controlled.report["disclosure"]["information_loss"],
        suppressed_records=controlled.report["disclosure"]["suppressed_records"],
        hierarchy=controlled.report["disclosure"]["hierarchy"],
    )
    return ReleaseResult(release.id, contract.code, len(rows), fields, listing, release.out_dir)


def _release_row(r: Release, c: Contract, today: dt.date, files: list[Any]) -> dict:
    open_now = r.disposed_at is None and c.start_date <= today <= c.end_date
    return {
        "id": r.id,
        "contract": c.code,
        "title": c.title,
        "records": r.records,
        "start": c.start_date,
        "end": c.end_date,
        "created_at": r.created_at,
        "disposed_at": r.disposed_at,
        "available": open_now,
        "files": [{"name": f.name, "bytes": f.size, "sha256": f.sha256} for f in files],
    }


def list_releases(ctx: Ctx, record: bool = True) -> list[dict[str, Any]]:
    """Releases a user may see: a researcher only those of contracts naming them.

    ``record=False`` skips the audit entry (the dashboard's count of releases).
    """
    ctx.authorize("release.list")
    stmt = select(Release, Contract).join(Contract, Contract.id == Release.contract_id)
    if ctx.actor.role == "researcher":
        stmt = stmt.join(ContractResearcher, ContractResearcher.contract_id == Contract.id).where(
            ContractResearcher.account == ctx.actor.name
        )
    today = _today()
    pairs = ctx.session.execute(stmt.order_by(Release.id)).all()
    # One query for every release's files, and only their metadata: loading the
    # ORM rows read each file's encrypted content, per release (N+1).
    files: dict[int, list[Any]] = {r.id: [] for r, _c in pairs}
    if files:
        rows = ctx.session.execute(
            select(ReleaseFile.release_id, ReleaseFile.name, ReleaseFile.size, ReleaseFile.sha256)
            .where(ReleaseFile.release_id.in_(list(files)))
            .order_by(ReleaseFile.id)
        )
        for row in rows:
            files[row.release_id].append(row)
    out = [_release_row(r, c, today, files[r.id]) for r, c in pairs]
    if record:
        ctx.audit("release.list", "releases", count=len(out))
    return out


def _refuse(ctx: Ctx, key: str, object: str, **params: Any) -> PermissionDenied:
    """Record a refused download in its own committed transaction, then refuse."""
    ctx.session.rollback()
    ctx.audit("release.download", object, outcome="denied", reason=key.rsplit(".", 1)[-1])
    ctx.session.commit()
    return PermissionDenied(key, **params)


def download_file(ctx: Ctx, release_id: int, name: str = CSV_NAME) -> tuple[bytes, str]:
    """One file of a release for a researcher named on its contract, within its period.

    Every download is audited, and so is every refusal.
    """
    ctx.authorize("release.download", object=f"release:{release_id}")
    release = ctx.session.get(Release, release_id)
    if release is None:
        raise NotFound("cases.release.not_found", ref=release_id)
    contract = ctx.session.get(Contract, release.contract_id)
    obj = f"release:{release.id}"
    if ctx.actor.name not in researchers_of(ctx, contract.id):
        raise _refuse(ctx, "cases.release.not_named", obj)
    if release.disposed_at is not None:
        raise _refuse(ctx, "cases.release.disposed", obj)
    today = _today()
    if not contract.start_date <= today <= contract.end_date:
        raise _refuse(
            ctx,
            "cases.release.outside_period",
            obj,
            start=contract.start_date,
            end=contract.end_date,
        )
    file = ctx.session.scalar(
        select(ReleaseFile).where(ReleaseFile.release_id == release.id, ReleaseFile.name == name)
    )
    if file is None or file.content is None:
        raise NotFound("cases.release.no_file", name=name)
    data = base64.b64decode(ctx.keyring.decrypt(release_dataset(release.id), file.content) or "")
    ctx.audit(
        "release.download",
        obj,
        purpose=f"contract {contract.code}",
        file=name,
        sha256=file.sha256,
        bytes=len(data),
    )
    return data, file.media_type


def _remove_copies(release: Release, files: list[ReleaseFile]) -> int:
    """Delete the files ``--out`` wrote, where they are still there unchanged."""
    if not release.out_dir:
        return 0
    removed = 0
    for f in files:
        path = Path(release.out_dir) / f.name
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == f.sha256:
            path.unlink()
            removed += 1
    return removed


def dispose_contract(ctx: Ctx, ref: str | int, reason: str = "manual") -> dict[str, Any]:
    """Destroy every release of a contract (key, stored files, ``--out`` copies) and
    issue a disposal certificate (HTML and PDF, Japanese) recorded in the audit trail.
    """
    ctx.authorize("release.dispose")
    contract = find_contract(ctx, ref)
    if contract.disposed_at is not None:
        raise StateError("cases.release.already_disposed", code=contract.code)
    now = utcnow()
    done = []
    for release in ctx.session.scalars(
        select(Release).where(Release.contract_id == contract.id).order_by(Release.id)
    ):
        files = list(
            ctx.session.scalars(select(ReleaseFile).where(ReleaseFile.release_id == release.id))
        )
        key_destroyed = ctx.keyring.destroy(release_dataset(release.id))
        copies = _remove_copies(release, files)
        for f in files:
            f.content = None
        release.disposed_at = release.disposed_at or now
        done.append(
            {
                "id": release.id,
                "records": release.records,
                "files": [{"name": f.name, "sha256": f.sha256, "bytes": f.size} for f in files],
                "key_destroyed": key_destroyed,
                "copies_removed": copies,
                "created_at": release.created_at,
            }
        )
    contract.disposed_at = now
    ctx.session.flush()
    number = f"D-{contract.code}-{now:%Y%m%d}"
    from kumin.cases.reports import disposal_certificate_html
    from kumin.reports.render import html_to_pdf

    info = contract_dict(ctx, contract)
    html = disposal_certificate_html(info, done, number, now, reason, ctx.actor.name)
    disposal = Disposal(
        number=number,
        contract_id=contract.id,
        release_ids=json.dumps([d["id"] for d in done]),
        reason=reason,
        actor=ctx.actor.name,
        disposed_at=now,
        html=html,
        pdf=html_to_pdf(html),
    )
    ctx.session.add(disposal)
    ctx.session.flush()
    ctx.audit(
        "release.dispose",
        f"contract:{contract.id}",
        purpose="disposal on completion" if reason == "expired" else "disposal",
        contract=contract.code,
        certificate=number,
        reason=reason,
        releases=[d["id"] for d in done],
        keys_destroyed=sum(1 for d in done if d["key_destroyed"]),
        pdf_sha256=hashlib.sha256(disposal.pdf or b"").hexdigest(),
    )
    for d in done:
        ctx.audit("release.dispose", f"release:{d['id']}", certificate=number, reason=reason)
    return {
        "contract": contract.code,
        "certificate": number,
        "disposal_id": disposal.id,
        "releases": [d["id"] for d in done],
        "reason": reason,
    }


def dispose_expired(ctx: Ctx, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Dispose of every contract whose end date has passed (the housekeeping run)."""
    ctx.authorize("release.dispose")
    today = today or _today()
    expired = list(
        ctx.session.scalars(
            select(Contract.code).where(Contract.end_date < today, Contract.disposed_at.is_(None))
        )
    )
    return [dispose_contract(ctx, code, reason="expired") for code in expired]


def certificate(ctx: Ctx, disposal_id: int, fmt: str = "pdf") -> tuple[bytes, str, str]:
    """A disposal certificate as (bytes, media type, file name)."""
    ctx.authorize("contracts.read")
    disposal = ctx.session.get(Disposal, disposal_id)
    if disposal is None:
        raise NotFound("cases.release.no_certificate", ref=disposal_id)
    if fmt == "html":
        return disposal.html.encode("utf-8"), "text/html; charset=utf-8", f"{disposal.number}.html"
    return disposal.pdf or b"", "application/pdf", f"{disposal.number}.pdf"


def history(ctx: Ctx, ref: str | int) -> list[dict[str, Any]]:
    """Audit history of a contract and its releases, oldest first."""
    ctx.authorize("contracts.read")
    contract = find_contract(ctx, ref)
    entries = audit.query(ctx.session, object_prefix=f"contract:{contract.id}")
    entries = [e for e in entries if e.object == f"contract:{contract.id}"]
    for rid in ctx.session.scalars(select(Release.id).where(Release.contract_id == contract.id)):
        entries += [
            e
            for e in audit.query(ctx.session, object_prefix=f"release:{rid}")
            if e.object == f"release:{rid}"
        ]
    return audit.as_rows(sorted(entries, key=lambda e: e.seq))
