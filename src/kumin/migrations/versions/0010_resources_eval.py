"""resources: the case series each call centre's demand follows

Revision ID: 0010_resources_eval
Revises: 0003_resources
Create Date: 2026-12-07 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_resources_eval"
down_revision = "0003_resources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resources_centre_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre", sa.String(length=100), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources_centre_cases")),
        sa.UniqueConstraint("centre", "date", name="uq_resources_centre_cases_centre_date"),
    )
    op.create_index(op.f("ix_resources_centre_cases_centre"), "resources_centre_cases", ["centre"])


def downgrade() -> None:
    op.drop_index(op.f("ix_resources_centre_cases_centre"), table_name="resources_centre_cases")
    op.drop_table("resources_centre_cases")
