"""e-mail change tokens carry an address

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 07:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('user_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user_token', schema=None) as batch_op:
        batch_op.drop_column('detail')
