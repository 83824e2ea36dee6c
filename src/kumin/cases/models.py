"""Tables of notification records, their imports, research contracts, minimised
releases and disposal certificates.

Personal fields of a record (HER-SYS ID, birth date, nationality, residence,
address below town level, and the free-text symptoms, which can hold anything)
are kept together in one ``LargeBinary`` column, ``personal``: a JSON object
encrypted under the dataset ``"cases"`` (they are always read together, for a
release, and one encryption a record instead of six keeps a 31,077-row import
well under five seconds). The HER-SYS ID is matched through a blind index
(``hersys_index``) and a keyed content hash
tells a changed record from an unchanged one on re-import. Both are HMACs under
keys derived from the dataset key, so they die with it. The fields the models use
(dates, age in years at onset, age band, sex, town, care setting, doses, the
asymptomatic and imported flags) are kept in clear for analysis.

Release files are stored encrypted under the release's own dataset key
``"release:<id>"``; disposal destroys that key and deletes the files.
Contracts and pledges live here too (not in :mod:`kumin.governance`) so that one
migration, ``0002_cases``, holds the whole domain.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kumin.core.db import Base, utcnow

DATASET = "cases"
#: Record fields held in :attr:`CaseRow.personal` (encrypted), never in clear.
PERSONAL_COLUMNS = ("hersys_id", "birth_date", "nationality", "residence", "address", "symptoms")


def release_dataset(release_id: int) -> str:
    """The dataset (key) name of one release."""
    return f"release:{release_id}"


class CaseRow(Base):
    """One notification record (one person's notification, matched on HER-SYS ID)."""

    __tablename__ = "cases_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hersys_index: Mapped[str] = mapped_column(String(64), unique=True)  # blind index
    content_hash: Mapped[str] = mapped_column(String(64))  # keyed HMAC of every field
    # JSON of the personal fields (PERSONAL_COLUMNS), encrypted under DATASET
    personal: Mapped[bytes] = mapped_column(LargeBinary)
    # analysis fields, in clear
    age_years: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    age_band: Mapped[str | None] = mapped_column(String(8), default=None, index=True)
    sex: Mapped[str | None] = mapped_column(String(8), default=None)
    town: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    onset_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    first_visit_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    specimen_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    result_date: Mapped[dt.date | None] = mapped_column(Date, default=None, index=True)
    report_date: Mapped[dt.date | None] = mapped_column(Date, default=None, index=True)
    asymptomatic: Mapped[bool | None] = mapped_column(Boolean, default=None)
    vaccine_doses: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    care_setting: Mapped[str | None] = mapped_column(String(16), default=None)
    imported: Mapped[bool | None] = mapped_column(Boolean, default=None)
    import_id: Mapped[int] = mapped_column(ForeignKey("cases_imports.id"), index=True)
    updated_import_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ImportRun(Base):
    """One import of a file: who, what, and how many records were new, changed, the same."""

    __tablename__ = "cases_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    profile: Mapped[str] = mapped_column(String(64))
    encoding: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class Contract(Base):
    """A research outsourcing contract (report No. 350 items 1-10) and its pledge."""

    __tablename__ = "cases_contracts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    category: Mapped[str] = mapped_column(String(200), default="")  # 類型
    title: Mapped[str] = mapped_column(String(500))
    purpose: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    persons: Mapped[str] = mapped_column(Text, default="")  # range of persons, in words
    persons_from: Mapped[dt.date | None] = mapped_column(Date, default=None)
    persons_to: Mapped[dt.date | None] = mapped_column(Date, default=None)
    contractors: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    items: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of report item names
    conditions: Mapped[str] = mapped_column(Text, default="[]")  # JSON list: the pledge
    computer_processing: Mapped[bool] = mapped_column(Boolean, default=True)
    protection: Mapped[str] = mapped_column(Text, default="")  # contractor's regime (item 8)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disposed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # disclosure control (migration 0009_cases_disclosure); NULL lists = the defaults
    quasi_identifiers: Mapped[str | None] = mapped_column(Text, default=None)  # JSON list
    sensitive: Mapped[str | None] = mapped_column(Text, default=None)  # JSON list
    k_anonymity: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    max_suppression: Mapped[float] = mapped_column(Float, default=0.05, server_default="0.05")
    hierarchy: Mapped[str] = mapped_column(
        String(255), default="setagaya", server_default="setagaya"
    )


class ContractResearcher(Base):
    """A researcher account named on a contract (by account name: no cross-domain key)."""

    __tablename__ = "cases_contract_researchers"
    __table_args__ = (
        UniqueConstraint("contract_id", "account", name="uq_cases_contract_researchers_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("cases_contracts.id"), index=True)
    account: Mapped[str] = mapped_column(String(64), index=True)


class Release(Base):
    """A minimised extract handed over under a contract."""

    __tablename__ = "cases_releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("cases_contracts.id"), index=True)
    records: Mapped[int] = mapped_column(Integer, default=0)
    fields: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of released fields
    manifest: Mapped[str] = mapped_column(Text, default="{}")  # JSON, no personal value
    out_dir: Mapped[str | None] = mapped_column(Text, default=None)  # where --out wrote it
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disposed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ReleaseFile(Base):
    """One file of a release, encrypted under the release's own key."""

    __tablename__ = "cases_release_files"
    __table_args__ = (UniqueConstraint("release_id", "name", name="uq_cases_release_files_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("cases_releases.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted; None once disposed


class Disposal(Base):
    """A disposal certificate: which releases of a contract were destroyed, when, why."""

    __tablename__ = "cases_disposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("cases_contracts.id"), index=True)
    release_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    reason: Mapped[str] = mapped_column(String(16))  # manual | expired
    actor: Mapped[str] = mapped_column(String(64))
    disposed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
