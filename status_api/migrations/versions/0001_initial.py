"""The initial schema: users, operators, images, batches, requests and their state history.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operators"),
        sa.UniqueConstraint("name", name="uq_operators_name"),
    )
    op.create_table(
        "images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pull_specification", sa.Text, nullable=False),
        sa.Column("operator_id", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_images"),
        sa.UniqueConstraint("pull_specification", name="uq_images_pull_specification"),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"], name="fk_images_operator_id_operators"),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("annotations", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_batches"),
    )
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("type", sa.SmallInteger, nullable=False),
        sa.Column("batch_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("state", sa.SmallInteger, nullable=False),
        sa.Column("state_reason", sa.Text, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("updated", sa.DateTime, nullable=False),
        sa.Column("from_index_id", sa.Integer, nullable=True),
        sa.Column("index_image_id", sa.Integer, nullable=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("pipelinerun_uid", sa.String(64), nullable=True),
        sa.Column("pipelinerun_name", sa.String(253), nullable=True),
        sa.Column("pipelinerun_namespace", sa.String(63), nullable=True),
        sa.Column("pipelinerun_status", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_requests"),
        sa.UniqueConstraint("pipelinerun_uid", name="uq_requests_pipelinerun_uid"),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name="fk_requests_batch_id_batches"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_requests_user_id_users"),
        sa.ForeignKeyConstraint(["from_index_id"], ["images.id"], name="fk_requests_from_index_id_images"),
        sa.ForeignKeyConstraint(["index_image_id"], ["images.id"], name="fk_requests_index_image_id_images"),
    )
    op.create_index("ix_requests_state_id", "requests", ["state", "id"])
    op.create_index("ix_requests_batch_id", "requests", ["batch_id"])
    op.create_index("ix_requests_type_id", "requests", ["type", "id"])
    op.create_index("ix_requests_user_id", "requests", ["user_id", "id"])
    op.create_index("ix_requests_from_index_id", "requests", ["from_index_id"])
    op.create_index("ix_requests_index_image_id", "requests", ["index_image_id"])
    op.create_table(
        "request_states",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("request_id", sa.Integer, nullable=False),
        sa.Column("state", sa.SmallInteger, nullable=False),
        sa.Column("state_reason", sa.Text, nullable=False),
        sa.Column("updated", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_request_states"),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_request_states_request_id_requests"
        ),
    )
    op.create_index("ix_request_states_request_id_id", "request_states", ["request_id", "id"])


def downgrade() -> None:
    op.drop_table("request_states")
    op.drop_table("requests")
    op.drop_table("batches")
    op.drop_table("images")
    op.drop_table("operators")
    op.drop_table("users")
