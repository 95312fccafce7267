"""tv index

Where each scene sits in the TV library (show, season, stable episode index) and the shows'
titles folded for matching. Filled by the next sync (`mirror.tv_index`), not here: the layout
depends on the `[tv] show_by` setting, which migrations do not read.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:02:11.512300
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tv_episodes",
        sa.Column("scene_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("show", sa.String(), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("aired", sa.String(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scene_id"],
            ["scenes.id"],
            name=op.f("fk_tv_episodes_scene_id_scenes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scene_id", name=op.f("pk_tv_episodes")),
    )
    with op.batch_alter_table("tv_episodes", schema=None) as batch_op:
        batch_op.create_index("ix_tv_episodes_show_aired", ["show", "aired"], unique=False)
        batch_op.create_index(
            "ux_tv_episodes_show_season_idx", ["show", "season", "idx"], unique=True
        )

    op.create_table(
        "tv_shows",
        sa.Column("show", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_key", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("show", name=op.f("pk_tv_shows")),
    )
    with op.batch_alter_table("tv_shows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tv_shows_title_key"), ["title_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tv_shows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tv_shows_title_key"))
    op.drop_table("tv_shows")
    with op.batch_alter_table("tv_episodes", schema=None) as batch_op:
        batch_op.drop_index("ux_tv_episodes_show_season_idx")
        batch_op.drop_index("ix_tv_episodes_show_aired")
    op.drop_table("tv_episodes")
