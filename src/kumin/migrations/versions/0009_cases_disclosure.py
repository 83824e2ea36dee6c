"""cases: disclosure control settings of contracts (QIs, sensitive items, k, suppression)

Revision ID: 0009_cases_disclosure
Revises: 0002_cases
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_cases_disclosure"
down_revision = "0002_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases_contracts") as batch:
        batch.add_column(sa.Column("quasi_identifiers", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sensitive", sa.Text(), nullable=True))
        batch.add_column(sa.Column("k_anonymity", sa.Integer(), nullable=False, server_default="5"))
        batch.add_column(
            sa.Column("max_suppression", sa.Float(), nullable=False, server_default="0.05")
        )
        batch.add_column(
            sa.Column("hierarchy", sa.String(length=255), nullable=False, server_default="setagaya")
        )


def downgrade() -> None:
    with op.batch_alter_table("cases_contracts") as batch:
        for name in (
            "hierarchy",
            "max_suppression",
            "k_anonymity",
            "sensitive",
            "quasi_identifiers",
        ):
            batch.drop_column(name)
