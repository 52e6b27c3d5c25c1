"""Datasets made over HTTP, the training job queue and retraining schedules.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("classes", sa.JSON, nullable=False),
        sa.Column("created", WHEN, nullable=False),
    )
    op.create_table(
        "dataset_clips",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "dataset_id",
            sa.String(32),
            sa.ForeignKey("datasets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("speaker", sa.String(100), nullable=True),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("created", WHEN, nullable=False),
    )
    op.create_index("ix_dataset_clips_dataset_id", "dataset_clips", ["dataset_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("stage", sa.String(300), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("dataset_id", sa.String(32), nullable=True),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("notes", sa.JSON, nullable=False),
        sa.Column("clip_ids", sa.JSON, nullable=True),
        sa.Column("manifest", sa.String(1000), nullable=True),
        sa.Column("run_dir", sa.String(1000), nullable=True),
        sa.Column("metrics", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created", WHEN, nullable=False),
        sa.Column("started", WHEN, nullable=True),
        sa.Column("finished", WHEN, nullable=True),
        sa.Column("heartbeat", WHEN, nullable=True),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
    )
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.create_index("ix_jobs_dataset_id", "jobs", ["dataset_id"])
    op.create_table(
        "schedules",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("data", sa.String(1000), nullable=False),
        sa.Column("every_seconds", sa.Integer, nullable=False),
        sa.Column("margin", sa.Float, nullable=False),
        sa.Column("next_run", WHEN, nullable=False),
        sa.Column("created", WHEN, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("schedules")
    op.drop_index("ix_jobs_dataset_id", "jobs")
    op.drop_index("ix_jobs_state", "jobs")
    op.drop_table("jobs")
    op.drop_index("ix_dataset_clips_dataset_id", "dataset_clips")
    op.drop_table("dataset_clips")
    op.drop_table("datasets")
