"""core: change counters for report snapshots, indexes behind the heavy pages

Every table of the analysed data (cards, Juki-net, cases, resources) gets a row
in ``data_versions`` and a trigger that bumps it on any change, so a snapshot's
fingerprint is one lookup instead of counting millions of rows; and the indexes
the card list and the dashboard need.

Revision ID: 0014_core_perf
Revises: 0013_core_closures
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_core_perf"
down_revision = "0013_core_closures"
branch_labels = None
# the domains' tables must exist before their triggers are installed
depends_on = ("0009_cases_disclosure", "0010_resources_eval", "0012_cards_national", "0005_juki")


def _tracked(conn) -> list[str]:
    from kumin.core.snapshots import TRACKED_PREFIXES

    return sorted(t for t in sa.inspect(conn).get_table_names() if t.startswith(TRACKED_PREFIXES))


def upgrade() -> None:
    from kumin.core.snapshots import track

    op.create_table(
        "data_versions",
        sa.Column("table_name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_data_versions")),
    )
    # the card list (latest workflow cards) and the dashboard (cards per step)
    # scanned all imported cards: half a million rows on the demo ward
    op.create_index("ix_cards_cards_source_card_id", "cards_cards", ["source", "card_id"])
    op.create_index("ix_cards_cards_source_step", "cards_cards", ["source", "step"])
    track(op.get_bind(), _tracked(op.get_bind()))


def downgrade() -> None:
    from kumin.core.snapshots import untrack

    conn = op.get_bind()
    untrack(conn, _tracked(conn))
    if conn.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS kumin_bump_data_version()")
    op.drop_index("ix_cards_cards_source_step", table_name="cards_cards")
    op.drop_index("ix_cards_cards_source_card_id", table_name="cards_cards")
    op.drop_table("data_versions")
