"""a seller's own words

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 01:40:00

Per language, a seller's replacement for any of the portal's built-in texts ({"de": {"Sign in": "Einloggen"}}).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0018'
down_revision: Union[str, None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('branding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('words', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('branding', schema=None) as batch_op:
        batch_op.drop_column('words')
