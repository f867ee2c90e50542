"""The tables: users, patients, their visits, each visit's assessments, and the audit log.

A visit keeps the findings as recorded (JSON, the case file's `findings` block) and never
changes them; each assessment of it keeps the contract JSON, the KB version it was made with,
the HTML report and the patient handout as shown then, and who made it when. Re-assessing with
a newer KB adds an assessment instead of overwriting one, so what a clinician saw and what the
patient was given are never lost. The audit log has no foreign key to patients on purpose:
deleting a patient's data must not delete the record that it was read, exported and deleted."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Setting(Base):
    """Server-wide values that must survive restarts, such as the session-signing secret."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(80), default="", index=True)  # the clinic's own number
    name: Mapped[str] = mapped_column(String(200), index=True)
    birth_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sex: Mapped[str] = mapped_column(String(20), default="unknown")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    visits: Mapped[list[Visit]] = relationship(back_populates="patient", cascade="all, delete-orphan",
                                               passive_deletes=True, order_by="Visit.seen_on")


class Visit(Base):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    seen_on: Mapped[dt.date] = mapped_column(Date, default=dt.date.today)
    method: Mapped[str] = mapped_column(String(20))  # "form" or "consultation"
    age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    findings: Mapped[dict[str, Any]] = mapped_column(JSON)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    review_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)

    patient: Mapped[Patient] = relationship(back_populates="visits")
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Assessment.id")


class Assessment(Base):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    kb_version: Mapped[str] = mapped_column(String(200))
    triage: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    report_html: Mapped[str] = mapped_column(Text, deferred=True)  # large: loaded only to be shown
    # The patient's sheet as handed out; NULL for assessments made before migration 0004.
    handout_html: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="assessments")


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, server_default=func.now())
    user: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(20))  # read, write, export, delete
    patient_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class LoginFailure(Base):
    """One failed login for one key (`name:...` or `addr:...`), kept for the limiter's window;
    in the database so that every worker process of the server counts the same failures."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
