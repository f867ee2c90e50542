"""What the CDS Hooks service keeps: each call (for the report link), the cards it sent, and the
feedback clinicians gave on them, so rule authors can see which rules clinicians override.

A card is stored with the rules behind it when it is sent; feedback names only the card's uuid
(CDS Hooks 2.0, "Feedback"), so this is how an override is traced back to rules. A call keeps
the QuestionnaireResponse it assessed, so the card's link can show the full report later; the
link carries a random token, not a guessable id. The ids (`jti`) of the bearer tokens already
accepted are kept here too, until they expire, so that a token replayed to another worker
process of the same server is refused like one replayed to the same process (migration 0005).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from clinic.models import Base, utcnow  # one schema: these tables come with migration 0003
from reports.cds_cards import IssuedCard

if TYPE_CHECKING:
    from clinic.db import Database


class CdsCall(Base):
    __tablename__ = "cds_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hook_instance: Mapped[str] = mapped_column(String(100), index=True)
    report_token: Mapped[str] = mapped_column(String(64), unique=True)
    patient_ref: Mapped[str] = mapped_column(String(200), default="")
    response: Mapped[dict[str, Any]] = mapped_column(JSON)  # the QuestionnaireResponse assessed
    kb_version: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CdsCard(Base):
    __tablename__ = "cds_cards"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("cds_calls.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(100))  # a red flag id, or "assessment"
    indicator: Mapped[str] = mapped_column(String(10))
    rules: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CdsTokenSeen(Base):
    """A bearer token's id, kept until the token has expired (with the clock-skew leeway)."""

    __tablename__ = "cds_tokens_seen"

    jti: Mapped[str] = mapped_column(String(200), primary_key=True)
    forget_after: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


def first_use(db: Database, jti: str, expires: float, leeway_s: float) -> bool:
    """True the first time any worker process sees this token id; False for a replay. The
    primary key decides, so two workers given the same token at once cannot both accept it."""
    key = jti if len(jti) <= 200 else "sha256:" + hashlib.sha256(jti.encode()).hexdigest()
    now = utcnow()
    until = dt.datetime.fromtimestamp(expires + leeway_s, dt.timezone.utc).replace(tzinfo=None)
    try:
        with db.session() as session:
            session.execute(delete(CdsTokenSeen).where(CdsTokenSeen.forget_after < now))
            session.add(CdsTokenSeen(jti=key, forget_after=until))
    except IntegrityError:
        return False
    return True


class CdsFeedback(Base):
    __tablename__ = "cds_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_uuid: Mapped[str] = mapped_column(ForeignKey("cds_cards.uuid", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(12))  # accepted | overridden
    reason_code: Mapped[str] = mapped_column(String(100), default="")
    reason_display: Mapped[str] = mapped_column(String(300), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    outcome_at: Mapped[dt.datetime] = mapped_column(DateTime)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


def record_call(session: Session, hook_instance: str, patient_ref: str, response: dict[str, Any],
                kb_version: str, cards: Iterable[IssuedCard], token: str) -> None:
    call = CdsCall(hook_instance=hook_instance, report_token=token, patient_ref=patient_ref,
                   response=response, kb_version=kb_version)
    session.add(call)
    session.flush()
    for issued in cards:
        session.add(CdsCard(uuid=issued.uuid, call_id=call.id, subject=issued.subject,
                            indicator=str(issued.card["indicator"]), rules=list(issued.rules)))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def call_for_token(session: Session, token: str) -> CdsCall | None:
    return session.scalars(select(CdsCall).where(CdsCall.report_token == token)).first()


def _timestamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def record_feedback(session: Session, entries: list[dict[str, Any]]) -> list[str]:
    """Store every entry, or none: returns the card uuids this service never sent (then nothing
    is stored and the caller answers 400)."""
    uuids = [str(entry["card"]) for entry in entries]
    known = set(session.scalars(select(CdsCard.uuid).where(CdsCard.uuid.in_(uuids))))
    unknown = [u for u in uuids if u not in known]
    if unknown:
        return unknown
    for entry in entries:
        reason = entry.get("overrideReason") or {}
        coding = reason.get("reason") or {}
        session.add(CdsFeedback(card_uuid=str(entry["card"]), outcome=str(entry["outcome"]),
                                reason_code=str(coding.get("code", "")),
                                reason_display=str(coding.get("display", "")),
                                comment=str(reason.get("userComment", "")),
                                outcome_at=_timestamp(str(entry["outcomeTimestamp"]))))
    return []


@dataclass
class RuleFeedback:
    """How clinicians answered the cards one rule contributed to."""

    rule: str
    shown: int = 0
    accepted: int = 0
    overridden: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def override_rate(self) -> float:
        answered = self.accepted + self.overridden
        return self.overridden / answered if answered else 0.0


def feedback_by_rule(session: Session) -> list[RuleFeedback]:
    """Per rule: cards shown, accepted, overridden and the override reasons given; the rules
    overridden most often first (what an author should look at)."""
    table: dict[str, RuleFeedback] = {}
    rules_of: dict[str, list[str]] = {}
    for card in session.scalars(select(CdsCard)):
        rules_of[card.uuid] = list(card.rules)
        for rule in card.rules:
            table.setdefault(rule, RuleFeedback(rule)).shown += 1
    for feedback in session.scalars(select(CdsFeedback)):
        for rule in rules_of.get(feedback.card_uuid, []):
            stats = table[rule]
            if feedback.outcome == "accepted":
                stats.accepted += 1
            else:
                stats.overridden += 1
                reason = feedback.reason_display or feedback.reason_code or "no reason given"
                stats.reasons[reason] += 1
                if feedback.comment:
                    stats.reasons[f"comment: {feedback.comment}"] += 1
    return sorted(table.values(), key=lambda s: (-s.overridden, -s.override_rate, s.rule))
