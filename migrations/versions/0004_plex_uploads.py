"""plex uploads

What stashplex uploaded into Plex Media Server, per PMS item and kind of image (poster, art):
which of our items it was for, the image (our URL path with its version) and a hash of the bytes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 18:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plex_uploads",
        sa.Column("plex_key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("uploaded_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("plex_key", "kind", name=op.f("pk_plex_uploads")),
    )
    with op.batch_alter_table("plex_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plex_uploads_item"), ["item"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plex_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plex_uploads_item"))
    op.drop_table("plex_uploads")
