"""Counts of requests per type and state, kept in step by every write, so that list totals are cheap.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_counts",
        sa.Column("type", sa.SmallInteger, nullable=False),
        sa.Column("state", sa.SmallInteger, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("type", "state", name="pk_request_counts"),
    )
    op.execute(
        "INSERT INTO request_counts (type, state, count)"
        " SELECT type, state, count(*) FROM requests GROUP BY type, state"
    )


def downgrade() -> None:
    op.drop_table("request_counts")
