"""posters and plex items

Poster state per scene (what cover a poster was rendered from, with which style) and the items
Plex Media Server holds for scenes (its key, the poster version last uploaded to it).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 15:10:34.047358
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plex_items",
        sa.Column("scene_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("plex_key", sa.String(), nullable=False),
        sa.Column("uploaded_version", sa.String(), nullable=True),
        sa.Column("found_at", sa.Float(), nullable=False),
        sa.Column("uploaded_at", sa.Float(), nullable=True),
        sa.Column("refreshed_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("scene_id", name=op.f("pk_plex_items")),
    )
    op.create_table(
        "posters",
        sa.Column("scene_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("scene_version", sa.String(), nullable=True),
        sa.Column("cover_etag", sa.String(), nullable=True),
        sa.Column("cover_hash", sa.LargeBinary(), nullable=True),
        sa.Column("style", sa.String(), nullable=True),
        sa.Column("poster_version", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.Float(), nullable=False),
        sa.Column("rendered_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("scene_id", name=op.f("pk_posters")),
    )


def downgrade() -> None:
    op.drop_table("posters")
    op.drop_table("plex_items")
