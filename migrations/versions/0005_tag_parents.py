"""tag parents

Each tag's parents (Stash's tag hierarchy), for `[metadata] parent_tags`. The tags already
mirrored have none recorded: the tag cursor is cleared, so the next sync fetches every tag again
(tags are few) and re-renders the scenes whose tags gained parents.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 18:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_ids", sa.Text(), nullable=True))
    op.execute("DELETE FROM sync_state WHERE key = 'cursor:tag'")


def downgrade() -> None:
    with op.batch_alter_table("tags", schema=None) as batch_op:
        batch_op.drop_column("parent_ids")
