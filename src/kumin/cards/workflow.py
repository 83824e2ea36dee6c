"""The card-issuance workflow as a state machine, for both issuance methods.

visit-at-issuance (交付時来庁方式)::

    applied → prepared (交付前設定) → came to window → identity checked
            → PINs set by the applicant on the touch panel → issued

visit-at-application (申請時来庁方式, from 2017-09-20)::

    applied at a window with the identity check → PIN-setting form held by the ward
            → prepared, PINs set by the ward → form shredded (who, when)
            → mailed by restricted-delivery mail (本人限定受取郵便) → delivered
                                                                   ↘ returned → mailed again,
                                                                     or collected at a window

A step out of order raises :class:`~kumin.errors.StateError` with the key
``cards.workflow.out_of_order``. No method takes a PIN, or an image of the
PIN-setting form: kumin records *that* PINs were set, never what they are.

Issued cards then move between states (operating ⇄ suspended → revoked) and carry
certificate events; :class:`CardState` enforces those transitions.

Example
-------
>>> import datetime as dt
>>> from kumin.cards.workflow import CardIssuance, IdentityCheck, Document, FaceResult
>>> card = CardIssuance.apply(1, resident_no=42, channel="web", on=dt.date(2021, 5, 6))
>>> _ = card.prepare(dt.datetime(2021, 6, 1, 10), by="clerk1")
>>> _ = card.arrive(dt.datetime(2021, 6, 8, 9, 30), window="card_centre")
>>> check = IdentityCheck(FaceResult.MATCH, (Document.DRIVING_LICENCE,))
>>> _ = card.check_identity(dt.datetime(2021, 6, 8, 9, 35), by="clerk2", check=check)
>>> _ = card.applicant_set_pins(dt.datetime(2021, 6, 8, 9, 40))
>>> _ = card.issue(dt.datetime(2021, 6, 8, 9, 45), by="clerk2")
>>> card.step.value, card.record()["issued_on"].isoformat()
('issued', '2021-06-08')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kumin.cards.records import (
    VISIT_AT_APPLICATION_START,
    CertificateAction,
    CertificateType,
    Channel,
    Method,
    Origin,
    RevokeReason,
)
from kumin.errors import ParameterError, StateError


class Step(StrEnum):
    APPLIED = "applied"
    PIN_FORM_HELD = "pin_form_held"  # 申: 暗証番号設定依頼書 kept by the ward
    PREPARED = "prepared"  # 交: 交付前設定
    PINS_SET_BY_WARD = "pins_set_by_ward"  # 申: 交付前設定 incl. the PINs from the form
    FORM_SHREDDED = "form_shredded"  # 申: the form destroyed right after
    MAILED = "mailed"  # 申: 本人限定受取郵便
    RETURNED = "returned"  # 申: the mail came back
    CAME_TO_WINDOW = "came_to_window"
    IDENTITY_CHECKED = "identity_checked"
    PINS_SET_BY_APPLICANT = "pins_set_by_applicant"  # 交: on the touch panel
    ISSUED = "issued"  # handed over, or delivered by post
    CANCELLED = "cancelled"


class IdentityInsufficient(StateError):
    """The identity check step refused, naming in the reader's language the face
    result, the documents shown and what is missing."""

    def render(self, lang: str = "ja") -> str:
        from kumin.core.i18n import t

        sep = "、" if lang == "ja" else ", "
        docs = [d for d in self.params["documents"].split(",") if d]
        shown = sep.join(t(f"cards.label.document_{d}", lang) for d in docs)
        return t(
            self.key,
            lang,
            face=t(f"cards.label.face_{self.params['face']}", lang),
            documents=shown or t("cards.workflow.no_documents", lang),
            missing=t(f"cards.workflow.missing_{self.params['missing']}", lang),
        )


class FaceResult(StrEnum):
    """Result of the face-recognition system (顔認証システム)."""

    MATCH = "match"
    NO_MATCH = "no_match"
    NOT_POSSIBLE = "not_possible"  # e.g. the photo cannot be compared


class Document(StrEnum):
    """Identity documents shown (本人確認資料); labels: ``cards.label.document_<value>``.

    The card rules (国の事務処理要領) sort them in two kinds: a document with the
    holder's photo issued by a public body (A: one suffices) and one without (B:
    two are needed). :data:`PHOTO_DOCUMENTS` is the A list; every other kind,
    ``other`` included, counts as B.
    """

    DRIVING_LICENCE = "driving_licence"  # 運転免許証 (A)
    PASSPORT = "passport"  # 旅券 (A)
    RESIDENCE_CARD = "residence_card"  # 在留カード (A)
    SPECIAL_PERMANENT_RESIDENT = "special_permanent_resident"  # 特別永住者証明書 (A)
    DRIVING_HISTORY = "driving_history"  # 運転経歴証明書 (A)
    DISABILITY_CERTIFICATE = "disability_certificate"  # 身体障害者手帳 (A)
    HEALTH_INSURANCE_CARD = "health_insurance_card"  # 健康保険証 (B)
    PENSION_BOOK = "pension_book"  # 年金手帳 (B)
    PENSION_CERTIFICATE = "pension_certificate"  # 年金証書 (B)
    NOTIFICATION_CARD = "notification_card"  # 通知カード (B)
    OTHER = "other"  # (B)


PHOTO_DOCUMENTS = frozenset(
    {
        Document.DRIVING_LICENCE,
        Document.PASSPORT,
        Document.RESIDENCE_CARD,
        Document.SPECIAL_PERMANENT_RESIDENT,
        Document.DRIVING_HISTORY,
        Document.DISABILITY_CERTIFICATE,
    }
)


@dataclass(frozen=True)
class IdentityCheck:
    """An identity check: the face-recognition result and the documents shown.

    The card rule: one photo document (A), or two documents without a photo (B).
    When face recognition did not confirm the holder (no match, or not possible),
    the clerk compares faces by eye and the rule tightens to two documents of which
    one has a photo (the photo is what the clerk compares against).
    """

    face: FaceResult
    documents: tuple[Document, ...]

    def missing(self) -> str | None:
        """What is missing, as a ``cards.workflow.missing_<code>`` code, or None."""
        docs = set(self.documents)
        photo = len(docs & PHOTO_DOCUMENTS)
        other = len(docs - PHOTO_DOCUMENTS)
        if self.face is FaceResult.MATCH:
            if photo or other >= 2:
                return None
            return "photo_or_one_more" if other == 1 else "photo_or_two"
        if photo and photo + other >= 2:
            return None
        if photo:
            return "one_more"
        return "photo" if other >= 1 else "photo_and_one_more"

    def sufficient(self) -> bool:
        return self.missing() is None


@dataclass(frozen=True)
class StepRecord:
    """One step as recorded: what, when, who, and its non-secret details."""

    step: Step
    at: dt.datetime
    by: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


# Allowed transitions per method: step -> steps that may follow it.
_NEXT: dict[Method, dict[Step, tuple[Step, ...]]] = {
    Method.AT_ISSUANCE: {
        Step.APPLIED: (Step.PREPARED, Step.CANCELLED),
        Step.PREPARED: (Step.CAME_TO_WINDOW, Step.CANCELLED),
        Step.CAME_TO_WINDOW: (Step.IDENTITY_CHECKED,),
        Step.IDENTITY_CHECKED: (Step.PINS_SET_BY_APPLICANT,),
        Step.PINS_SET_BY_APPLICANT: (Step.ISSUED,),
    },
    Method.AT_APPLICATION: {
        Step.IDENTITY_CHECKED: (Step.PIN_FORM_HELD,),
        Step.PIN_FORM_HELD: (Step.PINS_SET_BY_WARD, Step.CANCELLED),
        Step.PINS_SET_BY_WARD: (Step.FORM_SHREDDED,),
        Step.FORM_SHREDDED: (Step.MAILED, Step.CANCELLED),
        Step.MAILED: (Step.ISSUED, Step.RETURNED),
        Step.RETURNED: (Step.MAILED, Step.CAME_TO_WINDOW, Step.CANCELLED),
        # collecting a returned card at a window: identity checked again, PINs are set
        Step.CAME_TO_WINDOW: (Step.IDENTITY_CHECKED,),
    },
}

# The form must be shredded "right after" the PINs are set.
FORM_SHRED_LIMIT = dt.timedelta(hours=24)


def _as_datetime(at: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(at, dt.datetime):
        return at
    if isinstance(at, dt.date):
        return dt.datetime.combine(at, dt.time())
    raise ParameterError("cards.workflow.bad_time", value=repr(at))


@dataclass
class CardIssuance:
    """One card's way from application to issuance. Build with :meth:`apply` or
    :meth:`apply_at_window`; each step method checks the order and returns the
    :class:`StepRecord` it appended to :attr:`history`."""

    card_id: int
    resident_no: int
    method: Method
    channel: Channel
    history: list[StepRecord] = field(default_factory=list)
    reissue_of: int | None = None

    # --- starting ------------------------------------------------------------------
    @classmethod
    def apply(
        cls,
        card_id: int,
        resident_no: int,
        channel: Channel | str,
        on: dt.date | dt.datetime,
        reissue_of: int | None = None,
    ) -> CardIssuance:
        """An application sent to J-LIS by mail, web or photo booth (visit-at-issuance)."""
        channel = Channel(channel)
        if channel is Channel.WINDOW:
            raise ParameterError("cards.workflow.window_channel")
        card = cls(card_id, resident_no, Method.AT_ISSUANCE, channel, reissue_of=reissue_of)
        card._append(Step.APPLIED, on, None, {"channel": channel.value})
        return card

    @classmethod
    def apply_at_window(
        cls,
        card_id: int,
        resident_no: int,
        on: dt.datetime | dt.date,
        by: str,
        window: str,
        check: IdentityCheck,
        reissue_of: int | None = None,
    ) -> CardIssuance:
        """An application taken at a window, identity checked there (visit-at-application)."""
        at = _as_datetime(on)
        if at.date() < VISIT_AT_APPLICATION_START:
            raise StateError(
                "cards.workflow.method_not_yet", start=VISIT_AT_APPLICATION_START.isoformat()
            )
        card = cls(
            card_id, resident_no, Method.AT_APPLICATION, Channel.WINDOW, reissue_of=reissue_of
        )
        card._append(Step.APPLIED, at, by, {"window": window})
        card._identity(at, by, check)
        return card

    @classmethod
    def restore(
        cls,
        card_id: int,
        resident_no: int,
        method: Method | str,
        channel: Channel | str,
        steps: list[StepRecord],
        reissue_of: int | None = None,
    ) -> CardIssuance:
        """Rebuild a card from its stored steps, checking their order again.

        A stored history that the workflow would not have allowed (edited rows,
        a bad import) raises the same :class:`StateError` as a live step.
        """
        card = cls(card_id, resident_no, Method(method), Channel(channel), reissue_of=reissue_of)
        if not steps or steps[0].step is not Step.APPLIED:
            raise StateError(
                "cards.workflow.out_of_order",
                card=card_id,
                step=steps[0].step.value if steps else "-",
                current="-",
                allowed="applied",
            )
        card._append(Step.APPLIED, steps[0].at, steps[0].by, dict(steps[0].details))
        for rec in steps[1:]:
            card._go(rec.step, rec.at, rec.by, dict(rec.details))
        return card

    # --- visit-at-issuance -------------------------------------------------------------
    def prepare(self, at: dt.datetime | dt.date, by: str) -> StepRecord:
        """The card arrived from J-LIS and its pre-issuance setting is done (交付前設定)."""
        return self._go(Step.PREPARED, at, by)

    def arrive(self, at: dt.datetime | dt.date, window: str) -> StepRecord:
        """The applicant came to ``window`` to collect the card."""
        return self._go(Step.CAME_TO_WINDOW, at, None, {"window": window})

    def check_identity(
        self, at: dt.datetime | dt.date, by: str, check: IdentityCheck
    ) -> StepRecord:
        """Record the identity check at collection (face recognition + documents)."""
        return self._identity(at, by, check)

    def applicant_set_pins(self, at: dt.datetime | dt.date) -> StepRecord:
        """The applicant set the PINs on the touch panel. kumin never sees them."""
        return self._go(Step.PINS_SET_BY_APPLICANT, at, None)

    def issue(self, at: dt.datetime | dt.date, by: str | None = None) -> StepRecord:
        """The card was handed over (at a window) — or delivered, for mailed cards."""
        return self._go(Step.ISSUED, at, by)

    # --- visit-at-application ------------------------------------------------------------
    def hold_pin_form(self, at: dt.datetime | dt.date, by: str) -> StepRecord:
        """The PIN-setting request form (暗証番号設定依頼書) is kept by the ward."""
        return self._go(Step.PIN_FORM_HELD, at, by)

    def ward_set_pins(self, at: dt.datetime | dt.date, by: str) -> StepRecord:
        """The card arrived and the ward set the PINs from the form (交付前設定)."""
        return self._go(Step.PINS_SET_BY_WARD, at, by)

    def shred_form(self, at: dt.datetime | dt.date, by: str) -> StepRecord:
        """The form was destroyed by shredder, by ``by`` at ``at``.

        Shredding later than :data:`FORM_SHRED_LIMIT` after the PINs were set is
        still recorded (the form must not stay undocumented) and marked ``late``.
        """
        when = _as_datetime(at)
        pins_at = self._last(Step.PINS_SET_BY_WARD)
        late = pins_at is not None and when - pins_at.at > FORM_SHRED_LIMIT
        return self._go(Step.FORM_SHREDDED, when, by, {"late": late})

    def mail(
        self, at: dt.datetime | dt.date, by: str, tracking_no: str | None = None
    ) -> StepRecord:
        """Sent by restricted-delivery mail (本人限定受取郵便)."""
        return self._go(Step.MAILED, at, by, {"tracking_no": tracking_no})

    def deliver(self, at: dt.datetime | dt.date) -> StepRecord:
        """The post office handed the card to the applicant."""
        return self._go(Step.ISSUED, at, None, {"by_post": True})

    def returned(self, at: dt.datetime | dt.date, reason: str = "") -> StepRecord:
        """The mail came back undelivered."""
        return self._go(Step.RETURNED, at, None, {"reason": reason})

    # --- either ---------------------------------------------------------------------
    def cancel(self, at: dt.datetime | dt.date, by: str, reason: str) -> StepRecord:
        """The application is cancelled (withdrawn, moved out, died, …) before issuance."""
        return self._go(Step.CANCELLED, at, by, {"reason": reason})

    # --- state --------------------------------------------------------------------------
    @property
    def step(self) -> Step:
        return self.history[-1].step

    def next_steps(self) -> tuple[Step, ...]:
        """The steps allowed now (empty once issued or cancelled)."""
        if self.method is Method.AT_APPLICATION:
            if self.step is Step.APPLIED:
                return (Step.IDENTITY_CHECKED,)
            if self.step is Step.IDENTITY_CHECKED and self._last(Step.MAILED) is not None:
                return (Step.ISSUED,)  # a returned card collected at a window
        return _NEXT[self.method].get(self.step, ())

    def record(self) -> dict[str, Any]:
        """This card as a row of :data:`kumin.cards.records.CARDS_SCHEMA`."""

        def day(step: Step, first: bool = False) -> dt.date | None:
            recs = [r for r in self.history if r.step is step]
            if not recs:
                return None
            return (recs[0] if first else recs[-1]).at.date()

        prepared = Step.PREPARED if self.method is Method.AT_ISSUANCE else Step.PINS_SET_BY_WARD
        window = None
        for r in self.history:
            if "window" in r.details:
                window = r.details["window"]
        return {
            "card_id": self.card_id,
            "resident_no": self.resident_no,
            "origin": Origin.ISSUED_HERE.value,
            "method": self.method.value,
            "channel": self.channel.value,
            "applied_on": day(Step.APPLIED),
            "prepared_on": day(prepared),
            "mailed_on": day(Step.MAILED, first=True),
            "returned_on": day(Step.RETURNED),
            "issued_on": day(Step.ISSUED),
            "window": window,
            "reissue_of": self.reissue_of,
        }

    # --- machinery ----------------------------------------------------------------------
    def _last(self, step: Step) -> StepRecord | None:
        return next((r for r in reversed(self.history) if r.step is step), None)

    def _identity(self, at, by, check: IdentityCheck) -> StepRecord:
        missing = check.missing()
        if missing is not None:
            raise IdentityInsufficient(
                "cards.workflow.identity_insufficient",
                face=check.face.value,
                documents=",".join(d.value for d in check.documents),
                missing=missing,
            )
        details = {"face": check.face.value, "documents": [d.value for d in check.documents]}
        return self._go(Step.IDENTITY_CHECKED, at, by, details)

    def _go(self, step: Step, at, by, details: dict[str, Any] | None = None) -> StepRecord:
        current = self.step if self.history else None
        allowed = self.next_steps() if current is not None else ()
        if step not in allowed:
            raise StateError(
                "cards.workflow.out_of_order",
                card=self.card_id,
                step=step.value,
                current=current.value if current else "-",
                allowed=", ".join(s.value for s in allowed) or "-",
            )
        return self._append(step, at, by, details or {})

    def _append(self, step: Step, at, by, details: dict[str, Any]) -> StepRecord:
        when = _as_datetime(at)
        if self.history and when < self.history[-1].at:
            raise StateError(
                "cards.workflow.time_backwards",
                card=self.card_id,
                step=step.value,
                at=when.isoformat(),
                previous=self.history[-1].at.isoformat(),
            )
        rec = StepRecord(step, when, by, details)
        self.history.append(rec)
        return rec


# --- issued cards: operating, suspended, revoked; certificates ---------------------------


class CardStatus(StrEnum):
    OPERATING = "operating"  # 運用中
    SUSPENDED = "suspended"  # 一時停止
    REVOKED = "revoked"  # 廃止
    MOVED_OUT = "moved_out"  # left the ward; the card continues elsewhere


@dataclass(frozen=True)
class CertificateEvent:
    card_id: int
    date: dt.date
    cert_type: CertificateType
    action: CertificateAction


@dataclass
class CardState:
    """An issued (or moved-in) card's status and certificate events over time."""

    card_id: int
    since: dt.date
    status: CardStatus = CardStatus.OPERATING
    events: list[tuple[dt.date, str, str | None]] = field(default_factory=list)
    certificates: list[CertificateEvent] = field(default_factory=list)

    def _check(self, on: dt.date, action: str, allowed: tuple[CardStatus, ...]) -> None:
        if self.status not in allowed:
            raise StateError(
                "cards.workflow.card_state",
                card=self.card_id,
                action=action,
                status=self.status.value,
            )
        last = self.events[-1][0] if self.events else self.since
        if on < last:
            raise StateError(
                "cards.workflow.time_backwards",
                card=self.card_id,
                step=action,
                at=on.isoformat(),
                previous=last.isoformat(),
            )

    def suspend(self, on: dt.date, reason: str = "lost") -> None:
        """Temporarily suspend (一時停止), e.g. when the card is reported lost."""
        self._check(on, "suspend", (CardStatus.OPERATING,))
        self.status = CardStatus.SUSPENDED
        self.events.append((on, "suspended", reason))

    def resume(self, on: dt.date) -> None:
        self._check(on, "resume", (CardStatus.SUSPENDED,))
        self.status = CardStatus.OPERATING
        self.events.append((on, "resumed", None))

    def revoke(self, on: dt.date, reason: RevokeReason | str) -> None:
        """Revoke (廃止) for move-out, death, expiry, return or re-issue."""
        reason = RevokeReason(reason)
        self._check(on, "revoke", (CardStatus.OPERATING, CardStatus.SUSPENDED))
        self.status = CardStatus.REVOKED
        self.events.append((on, "revoked", reason.value))

    def move_out(self, on: dt.date) -> None:
        """The holder left the ward and keeps the card (continued use elsewhere)."""
        self._check(on, "move_out", (CardStatus.OPERATING, CardStatus.SUSPENDED))
        self.status = CardStatus.MOVED_OUT
        self.events.append((on, "moved_out", None))

    def certificate(
        self, on: dt.date, cert_type: CertificateType | str, action: CertificateAction | str
    ) -> CertificateEvent:
        """Issue, renew or re-issue (incl. after a PIN reset) a certificate on this card.

        A renewal or re-issue needs an earlier certificate of the same type; any of
        them needs an operating card. The new PIN is set by the holder on the touch
        panel and is not an argument here.
        """
        cert_type, action = CertificateType(cert_type), CertificateAction(action)
        self._check(on, f"certificate:{action.value}", (CardStatus.OPERATING,))
        if action is not CertificateAction.NEW and not any(
            c.cert_type is cert_type for c in self.certificates
        ):
            raise StateError(
                "cards.workflow.no_certificate",
                card=self.card_id,
                cert_type=cert_type.value,
                action=action.value,
            )
        event = CertificateEvent(self.card_id, on, cert_type, action)
        self.certificates.append(event)
        return event

    def event_rows(self) -> list[dict[str, Any]]:
        """The state changes as rows of :data:`kumin.cards.records.CARD_EVENTS_SCHEMA`."""
        return [
            {
                "card_id": self.card_id,
                "date": on,
                "event": event,
                "reason": reason if event == "revoked" else None,
            }
            for on, event, reason in self.events
        ]

    def certificate_rows(self) -> list[dict[str, Any]]:
        """The certificate events as rows of :data:`kumin.cards.records.CERTIFICATES_SCHEMA`."""
        return [
            {
                "card_id": c.card_id,
                "date": c.date,
                "cert_type": c.cert_type.value,
                "action": c.action.value,
            }
            for c in self.certificates
        ]
