"""answer cache: answers kept for questions that mean the same, with the units they came from

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 19:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_cache",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("sources_json", sa.Text(), nullable=False),
        sa.Column("units_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("answer_cache", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_cache_model"), ["model"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("answer_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_cache_model"))
    op.drop_table("answer_cache")
