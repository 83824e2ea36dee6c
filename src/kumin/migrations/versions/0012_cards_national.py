"""cards: keep the population reference date (人口算出基準日) of national figures

Revision ID: 0012_cards_national
Revises: 0004_cards
Create Date: 2026-12-07 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_cards_national"
down_revision = "0004_cards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cards_national") as batch:
        batch.add_column(sa.Column("population_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cards_national") as batch:
        batch.drop_column("population_date")
