"""Card issuance services: residents, every workflow step, card states, certificates.

One function per user action, ``ctx`` first. Each workflow step loads the card
and its stored steps, rebuilds the :class:`~kumin.cards.workflow.CardIssuance`
(which re-checks the stored order), applies the step — a step out of order raises
:class:`~kumin.errors.StateError` — stores it and audits it. No function takes a
PIN or an image of the PIN-setting form: kumin records *that* PINs were set.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from kumin.cards.models import (
    DATASET,
    Card,
    CardEventRow,
    CardStep,
    Certificate,
    JukiTransaction,
    Resident,
)
from kumin.cards.records import (
    CardEvent,
    CertificateAction,
    CertificateType,
    Channel,
    JukiKind,
    Method,
    Origin,
)
from kumin.cards.windows import Window
from kumin.cards.workflow import (
    CardIssuance,
    CardState,
    CardStatus,
    CertificateEvent,
    Document,
    FaceResult,
    IdentityCheck,
    Step,
    StepRecord,
)
from kumin.core import closures
from kumin.core.context import Ctx
from kumin.core.i18n import t
from kumin.errors import NotFound, ParameterError, StateError


def now() -> dt.datetime:
    """The ward's wall-clock time, to the second (steps are recorded in local time)."""
    return dt.datetime.now().replace(microsecond=0)


def today() -> dt.date:
    return now().date()


def _recordable(ctx: Ctx, at: dt.date | dt.datetime) -> None:
    """A record dated ``at``: not in the future, not in a closed fiscal year."""
    closures.ensure_not_future(at, now())
    closures.ensure_open(ctx.session, at)


# --- residents ---------------------------------------------------------------------


def register_resident(
    ctx: Ctx,
    resident_no: int,
    name: str,
    birth_date: dt.date | None = None,
    address: str | None = None,
) -> int:
    """Record (or correct) a resident's personal fields, encrypted."""
    ctx.authorize("cards.manage")
    if resident_no <= 0:
        raise ParameterError("cards.service.bad_resident_no", value=resident_no)
    if not name.strip():
        raise ParameterError("cards.service.name_required")
    row = ctx.session.get(Resident, resident_no)
    created = row is None
    if row is None:
        row = Resident(resident_no=resident_no)
        ctx.session.add(row)
    row.name = ctx.keyring.encrypt(DATASET, name.strip())
    row.birth_date = ctx.keyring.encrypt(DATASET, birth_date.isoformat() if birth_date else None)
    row.address = ctx.keyring.encrypt(DATASET, address.strip() if address else None)
    ctx.session.flush()
    ctx.audit("cards.resident", f"resident:{resident_no}", created=created)
    return resident_no


def _resident_fields(ctx: Ctx, row: Resident | None) -> dict[str, Any]:
    if row is None:
        return {"registered": False, "name": None, "birth_date": None, "address": None}
    return {
        "registered": True,
        "name": ctx.keyring.decrypt(DATASET, row.name),
        "birth_date": ctx.keyring.decrypt(DATASET, row.birth_date),
        "address": ctx.keyring.decrypt(DATASET, row.address),
    }


def find_resident(ctx: Ctx, resident_no: int, purpose: str = "") -> dict[str, Any]:
    """A resident's personal fields and cards (an audited read of personal data)."""
    ctx.authorize("cards.read", object=f"resident:{resident_no}")
    row = ctx.session.get(Resident, resident_no)
    cards = ctx.session.scalars(
        select(Card).where(Card.resident_no == resident_no).order_by(Card.card_id)
    ).all()
    if row is None and not cards:
        raise NotFound("cards.service.no_resident", resident_no=resident_no)
    ctx.audit(
        "cards.read",
        f"resident:{resident_no}",
        purpose=purpose,
        personal=row is not None,
        cards=len(cards),
    )
    return {
        "resident_no": resident_no,
        **_resident_fields(ctx, row),
        "cards": [card_row(c) for c in cards],
    }


# --- cards and their steps ------------------------------------------------------------


def card_row(card: Card) -> dict[str, Any]:
    return {
        "card_id": card.card_id,
        "resident_no": card.resident_no,
        "origin": card.origin,
        "method": card.method,
        "channel": card.channel,
        "applied_on": card.applied_on,
        "prepared_on": card.prepared_on,
        "mailed_on": card.mailed_on,
        "returned_on": card.returned_on,
        "issued_on": card.issued_on,
        "window": card.window,
        "reissue_of": card.reissue_of,
        "step": card.step,
        "status": card.status,
        "source": card.source,
    }


def _card(ctx: Ctx, card_id: int) -> Card:
    card = ctx.session.get(Card, card_id)
    if card is None:
        raise NotFound("cards.service.no_card", card=card_id)
    return card


def _steps(ctx: Ctx, card_id: int) -> list[CardStep]:
    return list(
        ctx.session.scalars(
            select(CardStep).where(CardStep.card_id == card_id).order_by(CardStep.seq)
        )
    )


def _issuance(ctx: Ctx, card: Card) -> CardIssuance:
    rows = _steps(ctx, card.card_id)
    if not rows:
        raise StateError("cards.service.no_workflow", card=card.card_id)
    steps = [StepRecord(Step(r.step), r.at, r.by, json.loads(r.details)) for r in rows]
    return CardIssuance.restore(
        card.card_id, card.resident_no, card.method, card.channel, steps, card.reissue_of
    )


def next_steps(ctx: Ctx, card: Card) -> list[str]:
    """The workflow actions allowed now for a card (names of :data:`STEP_ACTIONS`)."""
    if card.source != "workflow" or card.step is None:
        return []
    issuance = _issuance(ctx, card)
    mailed = any(r.step is Step.MAILED for r in issuance.history)
    out = []
    for step in issuance.next_steps():
        if step is Step.ISSUED:
            out.append("deliver" if issuance.step is Step.MAILED else "issue")
        elif not (step is Step.IDENTITY_CHECKED and issuance.step is Step.APPLIED):
            out.append(ACTION_OF_STEP[step])
    if issuance.step is Step.IDENTITY_CHECKED and mailed and "issue" not in out:
        out.append("issue")
    return out


def card_view(ctx: Ctx, card_id: int) -> dict[str, Any]:
    """A card with its steps, next allowed steps, state changes and certificates."""
    ctx.authorize("cards.read", object=f"card:{card_id}")
    card = _card(ctx, card_id)
    steps = [
        {
            "seq": r.seq,
            "step": r.step,
            "at": r.at,
            "by": r.by,
            "details": json.loads(r.details),
            "recorded_by": r.recorded_by,
        }
        for r in _steps(ctx, card_id)
    ]
    events = [
        {"date": e.date, "event": e.event, "reason": e.reason}
        for e in ctx.session.scalars(
            select(CardEventRow)
            .where(CardEventRow.card_id == card_id)
            .order_by(CardEventRow.date, CardEventRow.id)
        )
    ]
    certs = [
        {"date": c.date, "cert_type": c.cert_type, "action": c.action}
        for c in ctx.session.scalars(
            select(Certificate)
            .where(Certificate.card_id == card_id)
            .order_by(Certificate.date, Certificate.id)
        )
    ]
    ctx.audit("cards.read", f"card:{card_id}")
    return {
        "card": card_row(card),
        "steps": steps,
        "next": next_steps(ctx, card),
        "events": events,
        "certificates": certs,
        "state_actions": _state_actions(card),
    }


def _state_actions(card: Card) -> list[str]:
    if card.status == CardStatus.OPERATING.value:
        return ["suspend", "revoke", "move_out", "certificate"]
    if card.status == CardStatus.SUSPENDED.value:
        return ["resume", "revoke"]
    return []


def _new_card_id(ctx: Ctx) -> int:
    return int(ctx.session.scalar(select(func.max(Card.card_id))) or 0) + 1


def _check_window(
    ctx: Ctx, code: str, at: dt.datetime, method: Method, windows: Sequence[Window] | None = None
) -> None:
    """The window exists, handles ``method`` and is open at ``at`` (day and hours)."""
    from kumin.cards.service_records import windows as stored_windows

    by_code = {w.code: w for w in (windows if windows is not None else stored_windows(ctx))}
    w = by_code.get(code)
    if w is None:
        raise NotFound("cards.service.no_window", window=code)
    if method not in w.methods:
        raise StateError("cards.service.window_method", window=code, method=method.code_ja)
    day = at.date()
    hours = w.hours_on(day)
    if hours is None:
        raise StateError("cards.service.window_closed", window=code, date=day.isoformat())
    if not w.open_at(at):
        raise StateError(
            "cards.service.window_hours",
            window=code,
            at=at.strftime("%Y-%m-%d %H:%M"),
            opens=hours[0].strftime("%H:%M"),
            closes=hours[1].strftime("%H:%M"),
        )


def _store(ctx: Ctx, card: Card, issuance: CardIssuance, audit: str, count: int = 1) -> dict:
    """Persist the last ``count`` steps applied and the card's summary columns; audit."""
    first = len(issuance.history) - count
    for seq in range(first, len(issuance.history)):
        rec = issuance.history[seq]
        ctx.session.add(
            CardStep(
                card_id=card.card_id,
                seq=seq,
                step=rec.step.value,
                at=rec.at,
                by=rec.by,
                details=json.dumps(rec.details, ensure_ascii=False, sort_keys=True),
                recorded_by=ctx.actor.name,
            )
        )
    new = issuance.history[-1]
    seq = len(issuance.history) - 1
    record = issuance.record()
    for key in ("applied_on", "prepared_on", "mailed_on", "returned_on", "issued_on", "window"):
        setattr(card, key, record[key])
    card.step = new.step.value
    ctx.session.flush()
    ctx.audit(f"cards.{audit}", f"card:{card.card_id}", step=new.step.value, seq=seq)
    return card_row(card)


def _documents(values: Sequence[str]) -> tuple[Document, ...]:
    try:
        return tuple(Document(v) for v in values)
    except ValueError:
        raise ParameterError("cards.service.bad_document", value=", ".join(values)) from None


def _face(value: str) -> FaceResult:
    try:
        return FaceResult(value)
    except ValueError:
        raise ParameterError("cards.service.bad_face", value=value) from None


def _require_resident(ctx: Ctx, resident_no: int) -> None:
    if ctx.session.get(Resident, resident_no) is None:
        raise NotFound("cards.service.no_resident", resident_no=resident_no)


def apply(
    ctx: Ctx,
    resident_no: int,
    channel: str,
    on: dt.datetime | None = None,
    reissue_of: int | None = None,
) -> dict:
    """An application received by J-LIS (mail, web, photo booth): visit-at-issuance."""
    ctx.authorize("cards.manage")
    _require_resident(ctx, resident_no)
    try:
        ch = Channel(channel)
    except ValueError:
        raise ParameterError("cards.service.bad_channel", value=channel) from None
    on = on or now()
    _recordable(ctx, on)
    card_id = _new_card_id(ctx)
    issuance = CardIssuance.apply(card_id, resident_no, ch, on, reissue_of=reissue_of)
    card = Card(
        card_id=card_id,
        resident_no=resident_no,
        origin=Origin.ISSUED_HERE.value,
        method=issuance.method.value,
        channel=ch.value,
        reissue_of=reissue_of,
        source="workflow",
    )
    ctx.session.add(card)
    return _store(ctx, card, issuance, "apply")


def apply_at_window(
    ctx: Ctx,
    resident_no: int,
    window: str,
    face: str,
    documents: Sequence[str],
    at: dt.datetime | None = None,
    reissue_of: int | None = None,
) -> dict:
    """An application taken at a window with the identity check: visit-at-application."""
    ctx.authorize("cards.manage")
    _require_resident(ctx, resident_no)
    at = at or now()
    check = IdentityCheck(_face(face), _documents(documents))
    _recordable(ctx, at)
    _check_window(ctx, window, at, Method.AT_APPLICATION)
    card_id = _new_card_id(ctx)
    issuance = CardIssuance.apply_at_window(
        card_id, resident_no, at, ctx.actor.name, window, check, reissue_of=reissue_of
    )
    card = Card(
        card_id=card_id,
        resident_no=resident_no,
        origin=Origin.ISSUED_HERE.value,
        method=Method.AT_APPLICATION.value,
        channel=Channel.WINDOW.value,
        reissue_of=reissue_of,
        source="workflow",
    )
    ctx.session.add(card)
    return _store(ctx, card, issuance, "apply_at_window", count=2)


def _labels(codes: str, lang: str) -> str:
    names = [
        t(f"cards.label.step_{c.strip()}", lang) if c.strip() not in ("", "-") else "-"
        for c in codes.split(",")
    ]
    return ("、" if lang == "ja" else ", ").join(names)


class OutOfOrder(StateError):
    """A workflow step out of order, the steps named in the reader's language."""

    def render(self, lang: str = "ja") -> str:
        params = dict(self.params)
        for key in ("current", "step", "allowed"):
            params[key] = _labels(self.params[key], lang)
        return t(self.key, lang, **params)


def _out_of_order(exc: StateError) -> StateError:
    p = exc.params
    return OutOfOrder(
        "cards.service.out_of_order",
        card=p["card"],
        current=p["current"],
        step=p["step"],
        allowed=p["allowed"],
    )


def _step(ctx: Ctx, card_id: int, name: str, do) -> dict:
    ctx.authorize("cards.manage", object=f"card:{card_id}")
    card = _card(ctx, card_id)
    issuance = _issuance(ctx, card)
    try:
        new = do(issuance, card)
    except StateError as exc:
        if exc.key == "cards.workflow.out_of_order":
            raise _out_of_order(exc) from None
        raise
    _recordable(ctx, new.at)
    if new.step is Step.ISSUED:
        _on_issued(ctx, card, new.at.date(), new.details.get("signature", True))
    return _store(ctx, card, issuance, name)


def prepare(ctx: Ctx, card_id: int, at: dt.datetime | None = None) -> dict:
    """The card arrived from J-LIS and the pre-issuance setting is done (交付前設定)."""
    return _step(ctx, card_id, "prepare", lambda c, _: c.prepare(at or now(), ctx.actor.name))


def arrive(ctx: Ctx, card_id: int, window: str, at: dt.datetime | None = None) -> dict:
    """The applicant came to ``window`` to collect the card."""
    at = at or now()

    def do(c: CardIssuance, card: Card) -> StepRecord:
        _check_window(ctx, window, at, Method.AT_ISSUANCE)
        return c.arrive(at, window)

    return _step(ctx, card_id, "arrive", do)


def check_identity(
    ctx: Ctx, card_id: int, face: str, documents: Sequence[str], at: dt.datetime | None = None
) -> dict:
    """The identity check at collection: face-recognition result and documents shown."""
    check = IdentityCheck(_face(face), _documents(documents))
    return _step(
        ctx,
        card_id,
        "check_identity",
        lambda c, _: c.check_identity(at or now(), ctx.actor.name, check),
    )


def applicant_set_pins(ctx: Ctx, card_id: int, at: dt.datetime | None = None) -> dict:
    """The applicant set the PINs on the touch panel (kumin never sees them)."""
    return _step(ctx, card_id, "applicant_set_pins", lambda c, _: c.applicant_set_pins(at or now()))


def issue(ctx: Ctx, card_id: int, at: dt.datetime | None = None, signature: bool = True) -> dict:
    """The card was handed over at a window (with its certificates)."""

    def do(c: CardIssuance, card: Card) -> StepRecord:
        if c.step is Step.MAILED:
            raise StateError("cards.service.use_deliver", card=card_id)
        rec = c.issue(at or now(), ctx.actor.name)
        rec.details["signature"] = signature
        return rec

    return _step(ctx, card_id, "issue", do)


def hold_form(ctx: Ctx, card_id: int, at: dt.datetime | None = None) -> dict:
    """The PIN-setting request form is kept by the ward (its contents are not recorded)."""
    return _step(
        ctx, card_id, "hold_form", lambda c, _: c.hold_pin_form(at or now(), ctx.actor.name)
    )


def ward_set_pins(ctx: Ctx, card_id: int, at: dt.datetime | None = None) -> dict:
    """The card arrived; the ward set the PINs from the form (交付前設定)."""
    return _step(
        ctx, card_id, "ward_set_pins", lambda c, _: c.ward_set_pins(at or now(), ctx.actor.name)
    )


def shred_form(
    ctx: Ctx, card_id: int, by: str | None = None, at: dt.datetime | None = None
) -> dict:
    """The form was destroyed by shredder, by ``by`` (default: the recording user)."""
    who = (by or "").strip() or ctx.actor.name
    return _step(ctx, card_id, "shred_form", lambda c, _: c.shred_form(at or now(), who))


def mail(
    ctx: Ctx, card_id: int, tracking_no: str | None = None, at: dt.datetime | None = None
) -> dict:
    """Sent by restricted-delivery mail (本人限定受取郵便)."""
    return _step(
        ctx,
        card_id,
        "mail",
        lambda c, _: c.mail(at or now(), ctx.actor.name, (tracking_no or "").strip() or None),
    )


def deliver(ctx: Ctx, card_id: int, at: dt.datetime | None = None, signature: bool = True) -> dict:
    """The post office handed the card to the applicant."""

    def do(c: CardIssuance, card: Card) -> StepRecord:
        rec = c.deliver(at or now())
        rec.details["signature"] = signature
        return rec

    return _step(ctx, card_id, "deliver", do)


def return_mail(ctx: Ctx, card_id: int, reason: str = "", at: dt.datetime | None = None) -> dict:
    """The restricted-delivery mail came back undelivered."""
    return _step(ctx, card_id, "return", lambda c, _: c.returned(at or now(), reason.strip()))


def cancel(ctx: Ctx, card_id: int, reason: str, at: dt.datetime | None = None) -> dict:
    """The application is cancelled before issuance (withdrawn, moved out, died …)."""
    return _step(
        ctx, card_id, "cancel", lambda c, _: c.cancel(at or now(), ctx.actor.name, reason.strip())
    )


# action name -> (service function, the step it records); the web and CLI dispatch here
STEP_ACTIONS = {
    "prepare": prepare,
    "arrive": arrive,
    "check_identity": check_identity,
    "applicant_set_pins": applicant_set_pins,
    "issue": issue,
    "hold_form": hold_form,
    "ward_set_pins": ward_set_pins,
    "shred_form": shred_form,
    "mail": mail,
    "deliver": deliver,
    "return": return_mail,
    "cancel": cancel,
}
ACTION_OF_STEP = {
    Step.PREPARED: "prepare",
    Step.CAME_TO_WINDOW: "arrive",
    Step.IDENTITY_CHECKED: "check_identity",
    Step.PINS_SET_BY_APPLICANT: "applicant_set_pins",
    Step.PIN_FORM_HELD: "hold_form",
    Step.PINS_SET_BY_WARD: "ward_set_pins",
    Step.FORM_SHREDDED: "shred_form",
    Step.MAILED: "mail",
    Step.RETURNED: "return",
    Step.CANCELLED: "cancel",
}


# --- issued cards: state and certificates ------------------------------------------------


def _on_issued(ctx: Ctx, card: Card, on: dt.date, signature: bool) -> None:
    card.status = CardStatus.OPERATING.value
    types = [CertificateType.USER_AUTH] + ([CertificateType.SIGNATURE] if signature else [])
    for cert_type in types:
        ctx.session.add(
            Certificate(
                card_id=card.card_id,
                date=on,
                cert_type=cert_type.value,
                action=CertificateAction.NEW.value,
            )
        )
    ctx.session.flush()


def _state(ctx: Ctx, card: Card) -> CardState:
    events = list(
        ctx.session.scalars(
            select(CardEventRow)
            .where(CardEventRow.card_id == card.card_id)
            .order_by(CardEventRow.date, CardEventRow.id)
        )
    )
    since = card.issued_on or next(
        (e.date for e in events if e.event == CardEvent.MOVED_IN.value), None
    )
    if since is None:
        raise StateError(
            "cards.workflow.card_state", card=card.card_id, action="state", status=card.step or "-"
        )
    state = CardState(card.card_id, since)
    for e in events:
        if e.event == CardEvent.SUSPENDED.value:
            state.suspend(e.date, e.reason or "")
        elif e.event == CardEvent.RESUMED.value:
            state.resume(e.date)
        elif e.event == CardEvent.REVOKED.value:
            state.revoke(e.date, e.reason)
        elif e.event == CardEvent.MOVED_OUT.value:
            state.move_out(e.date)
    state.certificates = [
        CertificateEvent(
            c.card_id, c.date, CertificateType(c.cert_type), CertificateAction(c.action)
        )
        for c in ctx.session.scalars(
            select(Certificate)
            .where(Certificate.card_id == card.card_id)
            .order_by(Certificate.date)
        )
    ]
    return state


def _change_state(ctx: Ctx, card_id: int, name: str, do) -> dict:
    ctx.authorize("cards.manage", object=f"card:{card_id}")
    card = _card(ctx, card_id)
    state = _state(ctx, card)
    before = len(state.events)
    do(state)
    for on, _event, _reason in state.events[before:]:
        _recordable(ctx, on)
    for on, event, reason in state.events[before:]:
        ctx.session.add(
            CardEventRow(
                card_id=card_id, date=on, event=event, reason=reason if event == "revoked" else None
            )
        )
    card.status = state.status.value
    ctx.session.flush()
    ctx.audit(f"cards.{name}", f"card:{card_id}", status=card.status)
    return card_row(card)


def suspend(ctx: Ctx, card_id: int, on: dt.date | None = None, reason: str = "lost") -> dict:
    """Temporarily suspend a card (一時停止), e.g. reported lost."""
    return _change_state(ctx, card_id, "suspend", lambda s: s.suspend(on or today(), reason))


def resume(ctx: Ctx, card_id: int, on: dt.date | None = None) -> dict:
    return _change_state(ctx, card_id, "resume", lambda s: s.resume(on or today()))


def revoke(ctx: Ctx, card_id: int, reason: str, on: dt.date | None = None) -> dict:
    """Revoke a card (廃止): move_out, death, expiry, return or reissue."""
    from kumin.cards.records import RevokeReason

    try:
        why = RevokeReason(reason)
    except ValueError:
        raise ParameterError("cards.service.bad_reason", value=reason) from None
    return _change_state(ctx, card_id, "revoke", lambda s: s.revoke(on or today(), why))


def move_out(ctx: Ctx, card_id: int, on: dt.date | None = None) -> dict:
    """The holder moved out of the ward (転出): the card continues elsewhere."""
    return _change_state(ctx, card_id, "move_out", lambda s: s.move_out(on or today()))


def move_in(
    ctx: Ctx, resident_no: int, on: dt.date | None = None, from_code6: str | None = None
) -> dict:
    """A resident who moved in keeps the card another municipality issued
    (マイナンバーカード継続利用): the card joins the ward's cards and the Juki-net
    continued-use transaction is recorded, as the yearly report counts both."""
    from kumin.cards.national import restore_code6

    ctx.authorize("cards.manage", object=f"resident:{resident_no}")
    _require_resident(ctx, resident_no)
    day = on or today()
    _recordable(ctx, day)
    code = restore_code6(from_code6) if from_code6 else None
    card = Card(
        card_id=_new_card_id(ctx),
        resident_no=resident_no,
        origin=Origin.MOVED_IN.value,
        status="operating",
        source="workflow",
    )
    ctx.session.add(card)
    ctx.session.add(CardEventRow(card_id=card.card_id, date=day, event=CardEvent.MOVED_IN.value))
    ctx.session.add(
        JukiTransaction(
            date=day, kind=JukiKind.CONTINUED_USE.value, resident_no=resident_no, other_code6=code
        )
    )
    ctx.session.flush()
    ctx.audit("cards.move_in", f"card:{card.card_id}", status=card.status)
    return card_row(card)


def certificate(
    ctx: Ctx, card_id: int, cert_type: str, action: str, on: dt.date | None = None
) -> dict:
    """A certificate issued, renewed or re-issued (incl. after a PIN reset) on a card."""
    ctx.authorize("cards.manage", object=f"card:{card_id}")
    try:
        ct, ca = CertificateType(cert_type), CertificateAction(action)
    except ValueError:
        raise ParameterError(
            "cards.service.bad_certificate", cert_type=cert_type, action=action
        ) from None
    card = _card(ctx, card_id)
    state = _state(ctx, card)
    event = state.certificate(on or today(), ct, ca)
    _recordable(ctx, event.date)
    ctx.session.add(
        Certificate(card_id=card_id, date=event.date, cert_type=ct.value, action=ca.value)
    )
    ctx.session.flush()
    ctx.audit("cards.certificate", f"card:{card_id}", cert_type=ct.value, cert_action=ca.value)
    return {"card_id": card_id, "date": event.date, "cert_type": ct.value, "action": ca.value}


def list_cards(ctx: Ctx, step: str | None = None, limit: int = 50) -> list[dict]:
    """The latest cards recorded through the workflow (optionally: at one step)."""
    ctx.authorize("cards.read")
    stmt = select(Card).where(Card.source == "workflow")
    if step:
        stmt = stmt.where(Card.step == step)
    rows = ctx.session.scalars(stmt.order_by(Card.card_id.desc()).limit(limit)).all()
    ctx.audit("cards.list", "cards", count=len(rows))
    return [card_row(c) for c in rows]


# --- the PIN-setting form: shredded "right after" the PINs are set -----------------------


def form_shredding(ctx: Ctx, start: dt.date, end: dt.date) -> dict[str, Any]:
    """PIN-setting forms shredded in [start, end], by window and month, with those
    shredded later than :data:`~kumin.cards.workflow.FORM_SHRED_LIMIT` after the
    PINs were set, and forms still held past the limit (PINs set in the period).

    Aggregates only (no card number, no person): ``{"limit_hours", "rows": [{window,
    month, shredded, late, max_hours}], "late", "still_held"}``.
    """
    from kumin.cards.workflow import FORM_SHRED_LIMIT

    ctx.authorize("security.report")
    lo = dt.datetime.combine(start - dt.timedelta(days=60), dt.time())
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    steps = (Step.PINS_SET_BY_WARD.value, Step.FORM_SHREDDED.value)
    pins: dict[int, dt.datetime] = {}
    shred: dict[int, dt.datetime] = {}
    windows: dict[int, str] = {}
    for card_id, step, at, window in ctx.session.execute(
        select(CardStep.card_id, CardStep.step, CardStep.at, Card.window)
        .join(Card, Card.card_id == CardStep.card_id)
        .where(CardStep.step.in_(steps), CardStep.at >= lo, CardStep.at < hi)
        .order_by(CardStep.card_id, CardStep.seq)
    ):
        (pins if step == Step.PINS_SET_BY_WARD.value else shred)[card_id] = at
        windows[card_id] = window or "-"
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for card_id, done in shred.items():
        if not start <= done.date() <= end:
            continue
        key = (windows[card_id], done.strftime("%Y-%m"))
        g = groups.setdefault(key, {"shredded": 0, "late": 0, "max_hours": 0.0})
        g["shredded"] += 1
        delay = done - pins[card_id] if card_id in pins else dt.timedelta()
        if delay > FORM_SHRED_LIMIT:
            g["late"] += 1
        g["max_hours"] = max(g["max_hours"], round(delay.total_seconds() / 3600, 1))
    cutoff = min(now(), dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    still = sum(
        1
        for card_id, at in pins.items()
        if start <= at.date() <= end
        and (card_id not in shred or shred[card_id] < at)
        and cutoff - at > FORM_SHRED_LIMIT
    )
    rows = [{"window": w, "month": m, **g} for (w, m), g in sorted(groups.items())]
    return {
        "limit_hours": int(FORM_SHRED_LIMIT.total_seconds() // 3600),
        "rows": rows,
        "late": sum(r["late"] for r in rows),
        "still_held": still,
    }
