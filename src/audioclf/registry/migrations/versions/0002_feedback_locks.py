"""Feedback, job locks, promotion time and training distribution of models.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Existing production versions get ``promoted_at = created`` so that a rollback right
after the upgrade has a history to go back to.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("train_distribution", sa.JSON, nullable=True))
    op.execute("UPDATE models SET promoted_at = created WHERE stage = 'production'")
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "prediction_id",
            sa.String(36),
            sa.ForeignKey("predictions.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("correct_label", sa.String(200), nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent", sa.Boolean, nullable=False),
        sa.Column("clip_path", sa.String(1000), nullable=True),
    )
    op.create_table(
        "locks",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("locks")
    op.drop_table("feedback")
    with op.batch_alter_table("models") as batch:
        batch.drop_column("train_distribution")
        batch.drop_column("promoted_at")
