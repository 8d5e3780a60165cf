"""domains: proven by a DNS record before they serve; customers' domains for their instances

A seller's portal domain and a customer's instance domain share one table. A host is served only once proven
(verified_at), and only one verified claim per host may exist; unproven claims no longer block anybody.

Domains that existed before this revision were served without a proof: they stay verified (grandfathered) with
a fresh token, and the periodic re-check asks their sellers to publish it within the grace period.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 04:00:00
"""
import secrets
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

VERIFIED = sa.text('verified_at IS NOT NULL')


def upgrade() -> None:
    with op.batch_alter_table('domain', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instance_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default='waiting_dns'))
        batch_op.add_column(sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('verified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('failing_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_check_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('check_delay_seconds', sa.Float(), nullable=False, server_default='0'))
        batch_op.create_foreign_key('fk_domain_instance_id', 'instance', ['instance_id'], ['id'])
        batch_op.drop_index('ix_domain_hostname')
        batch_op.create_index('ix_domain_hostname', ['hostname'], unique=False)
        batch_op.create_index('ix_domain_instance_id', ['instance_id'], unique=False)
        batch_op.create_unique_constraint('uq_domain_claim', ['hostname', 'organization_id'])
        batch_op.create_index('uq_domain_verified_hostname', ['hostname'], unique=True,
                              sqlite_where=VERIFIED, postgresql_where=VERIFIED)
    connection = op.get_bind()
    domain = sa.table('domain', sa.column('id', sa.Integer()), sa.column('token', sa.String()),
                      sa.column('status', sa.String()), sa.column('verified_at', sa.DateTime()))
    now = sa.func.now() if connection.dialect.name == 'postgresql' else sa.func.datetime('now')
    for (domain_id,) in connection.execute(sa.select(domain.c.id)).all():
        connection.execute(
            domain.update().where(domain.c.id == domain_id).values(
                token=secrets.token_urlsafe(24), status='verified', verified_at=now
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('domain', schema=None) as batch_op:
        batch_op.drop_index('uq_domain_verified_hostname', sqlite_where=VERIFIED, postgresql_where=VERIFIED)
        batch_op.drop_constraint('uq_domain_claim', type_='unique')
        batch_op.drop_index('ix_domain_instance_id')
        batch_op.drop_index('ix_domain_hostname')
        batch_op.create_index('ix_domain_hostname', ['hostname'], unique=True)
        batch_op.drop_constraint('fk_domain_instance_id', type_='foreignkey')
        for column in ('check_delay_seconds', 'next_check_at', 'checked_at', 'failing_since', 'verified_at',
                       'message', 'status', 'token', 'instance_id'):
            batch_op.drop_column(column)
