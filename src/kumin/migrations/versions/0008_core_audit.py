"""audit chain keyed: re-hash existing entries with HMAC under the key-file key

Revision ID: 0008_core_audit
Revises: 0007_core_auth
Create Date: 2026-12-07

Chains written before this revision hold plain SHA-256 hashes, which anyone who
can write the database can recompute. The existing chain is first verified as it
was written (a broken chain stops the upgrade: re-keying it would launder the
tampering), then every entry is re-hashed under the HMAC key, the head moves to
the new last hash, and an ``audit.rekey`` entry records the old head so that a
paper record of it can still be compared.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0008_core_audit"
down_revision = "0007_core_auth"
branch_labels = None
depends_on = None

_BATCH = 5000
_COLUMNS = ("seq", "ts", "actor", "action", "object", "purpose", "outcome", "details")


def _settings():
    from kumin.core.config import Settings

    return op.get_context().config.attributes.get("kumin_settings") or Settings.from_env()


def upgrade() -> None:
    from kumin.core import audit
    from kumin.core.crypto import audit_chain_key
    from kumin.errors import ConfigError

    conn = op.get_bind()
    total = conn.scalar(sa.text("SELECT COUNT(*) FROM audit_log"))
    if not total:
        return
    key = audit_chain_key(_settings().key_file)
    pg = conn.dialect.name == "postgresql"
    if pg:  # the append-only trigger forbids UPDATE; this one rewrite is the exception
        conn.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
    select = sa.text(
        f"SELECT {', '.join(_COLUMNS)}, prev_hash, hash FROM audit_log"
        " WHERE seq > :after ORDER BY seq LIMIT :n"
    )
    update = sa.text("UPDATE audit_log SET prev_hash = :prev_hash, hash = :hash WHERE seq = :seq")
    old_prev = new_prev = audit.GENESIS
    expected = 1
    while True:
        rows = conn.execute(select, {"after": expected - 1, "n": _BATCH}).mappings().all()
        if not rows:
            break
        changes = []
        for row in rows:
            fields = dict(row)
            if (
                row["seq"] != expected
                or row["prev_hash"] != old_prev
                or audit.legacy_hash(fields) != row["hash"]
            ):
                raise ConfigError("core.audit_keying.legacy_broken", seq=row["seq"])
            fields["prev_hash"] = new_prev
            new_hash = audit.entry_hash(fields, key)
            changes.append({"seq": row["seq"], "prev_hash": new_prev, "hash": new_hash})
            old_prev, new_prev, expected = row["hash"], new_hash, expected + 1
        conn.execute(update, changes)
    head = conn.execute(sa.text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
    if head is None or (head.seq, head.hash) != (expected - 1, old_prev):
        raise ConfigError("core.audit_keying.legacy_broken", seq=expected - 1)
    conn.execute(
        sa.text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1"),
        {"seq": expected - 1, "hash": new_prev},
    )
    if pg:
        conn.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))
    session = Session(bind=conn, info={"kumin_audit_key": key})
    audit.record(
        session,
        "system",
        "audit.rekey",
        "audit_log",
        details={"entries": expected - 1, "legacy_head": old_prev},
    )
    audit.flush(session)  # alembic commits the connection, not this session
    session.close()


def downgrade() -> None:
    # The SHA-256 hashes cannot be restored without dropping the key: refuse.
    raise NotImplementedError("the audit chain cannot be un-keyed")
