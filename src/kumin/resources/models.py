"""Tables of the resources domain: daily call-centre records and monthly service counts.

Neither holds personal data: a day of a call centre and a month of a service are
counts. One row per centre and date, and per service and month; re-importing a
file updates rows whose values changed and leaves the others alone.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kumin.core.db import Base, utcnow

# The ward's own centre when an import names none.
WARD_CENTRE = "ward"


class CallDay(Base):
    """One day of one call centre. Staffing columns are null for demand-only data."""

    __tablename__ = "resources_call_days"
    __table_args__ = (
        UniqueConstraint("centre", "date", name="uq_resources_call_days_centre_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre: Mapped[str] = mapped_column(String(100), index=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    calls_received: Mapped[int] = mapped_column(Integer)
    calls_answered: Mapped[int | None] = mapped_column(Integer, default=None)
    staff_regular: Mapped[int | None] = mapped_column(Integer, default=None)
    staff_external: Mapped[int | None] = mapped_column(Integer, default=None)
    staffed_hours: Mapped[float | None] = mapped_column(Float, default=None)
    calls_abandoned: Mapped[int | None] = mapped_column(Integer, default=None)
    mean_handle_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    cost_yen: Mapped[float | None] = mapped_column(Float, default=None)
    profile: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ServiceMonth(Base):
    """The count of one core service (TB, a routine vaccine...) in one month."""

    __tablename__ = "resources_service_months"
    __table_args__ = (
        UniqueConstraint("service", "month", name="uq_resources_service_months_service_month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service: Mapped[str] = mapped_column(String(100), index=True)
    month: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


CALL_VALUE_COLUMNS = (
    "calls_received",
    "calls_answered",
    "staff_regular",
    "staff_external",
    "staffed_hours",
    "calls_abandoned",
    "mean_handle_seconds",
    "cost_yen",
)


class CentreCases(Base):
    """A day of the case series one call centre's demand follows (the cases of the
    area it serves); the ward's own centre uses the ward's notifications instead."""

    __tablename__ = "resources_centre_cases"
    __table_args__ = (
        UniqueConstraint("centre", "date", name="uq_resources_centre_cases_centre_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre: Mapped[str] = mapped_column(String(100), index=True)
    date: Mapped[date] = mapped_column(Date)
    cases: Mapped[int] = mapped_column(Integer)
