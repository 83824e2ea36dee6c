"""core: fiscal years closed by publishing their security report

Revision ID: 0013_core_closures
Revises: 0011_core_jobs
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_core_closures"
down_revision = "0011_core_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fiscal_year_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fy", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fiscal_year_closures")),
        sa.UniqueConstraint("fy", "event", "number", name=op.f("uq_fiscal_year_closures_fy")),
    )
    op.create_index(
        op.f("ix_fiscal_year_closures_fy"), "fiscal_year_closures", ["fy"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_fiscal_year_closures_fy"), table_name="fiscal_year_closures")
    op.drop_table("fiscal_year_closures")
