"""uptime and instance status history

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 22:13:23

The history the charts read: each instance's uptime checks per day, and the count of instances per seller and
status per day. Both start empty: the charts show from the day this version runs.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0016'
down_revision: Union[str, None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('instance_status_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day', 'seller_id', 'status', name='uq_instance_status_day')
    )
    with op.batch_alter_table('instance_status_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instance_status_day_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_instance_status_day_seller_id'), ['seller_id'], unique=False)

    op.create_table('uptime_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('checks', sa.Integer(), nullable=False),
    sa.Column('up', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'day', name='uq_uptime_day_instance_day')
    )
    with op.batch_alter_table('uptime_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uptime_day_instance_id'), ['instance_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('uptime_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uptime_day_instance_id'))

    op.drop_table('uptime_day')
    with op.batch_alter_table('instance_status_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instance_status_day_seller_id'))
        batch_op.drop_index(batch_op.f('ix_instance_status_day_day'))

    op.drop_table('instance_status_day')
