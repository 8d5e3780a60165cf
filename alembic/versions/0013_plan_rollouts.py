"""plan rollouts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 16:00:19.797765
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('plan_rollout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('queue', sa.JSON(), nullable=False),
    sa.Column('running', sa.JSON(), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('started_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plan_rollout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_rollout_finished_at'), ['finished_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_rollout_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_rollout_plan_id'), ['plan_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('plan_rollout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_rollout_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_rollout_organization_id'))
        batch_op.drop_index(batch_op.f('ix_plan_rollout_finished_at'))

    op.drop_table('plan_rollout')
