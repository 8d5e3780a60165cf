"""server pool, placement and backups

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:20:00

The single Docker engine (DOCKER_HOST, or the default socket) and Coolify server (COOLIFY_SERVER_UUID) of earlier
versions become the first servers of the pool, and every instance already running is placed on its backend's.
Their capacity is left undeclared: the minute's watch learns an engine's memory and CPUs; staff set the rest.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0015'
down_revision: Union[str, None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    server = op.create_table('server',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('backend', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('tls_dir', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('publish_host', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('memory_mb', sa.Integer(), nullable=True),
    sa.Column('millicpus', sa.Integer(), nullable=True),
    sa.Column('max_instances', sa.Integer(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('allocated_memory_mb', sa.Integer(), nullable=False),
    sa.Column('allocated_millicpus', sa.Integer(), nullable=False),
    sa.Column('allocated_instances', sa.Integer(), nullable=False),
    sa.Column('down_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_index(op.f('ix_server_state'), 'server', ['state'], unique=False)
    op.create_table('backup',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('store', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('object_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('data_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_backup_instance_id'), 'backup', ['instance_id'], unique=False)
    op.create_index(op.f('ix_backup_organization_id'), 'backup', ['organization_id'], unique=False)
    op.create_index(op.f('ix_backup_status'), 'backup', ['status'], unique=False)
    with op.batch_alter_table('instance') as batch:
        batch.add_column(sa.Column('server_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('reserved_memory_mb', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('reserved_millicpus', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('host_unreachable', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index('ix_instance_server_id', ['server_id'], unique=False)
        batch.create_foreign_key('fk_instance_server', 'server', ['server_id'], ['id'])
    op.add_column('plan', sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))

    # today's single engine and Coolify server become the pool's first servers, holding what runs there now
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    # an empty address follows the setting (DOCKER_HOST, COOLIFY_SERVER_UUID), as it did before the pool
    from services.config import get_settings  # the settings as the portal reads them: environment, then .env

    first = [("docker", "docker-1", "")]
    if (get_settings().coolify_server_uuid or "").strip():
        first.append(("coolify", "coolify-1", ""))
    bind = op.get_bind()
    instance = sa.table('instance', sa.column('id'), sa.column('backend'), sa.column('status'), sa.column('server_id'))
    for backend, name, address in first:
        bind.execute(server.insert().values(
            name=name, backend=backend, address=address, publish_host='127.0.0.1', region='', state='active',
            allocated_memory_mb=0, allocated_millicpus=0, allocated_instances=0, created_at=now,
        ))
        server_id = bind.execute(sa.select(server.c.id).where(server.c.name == name)).scalar_one()
        placed = bind.execute(
            instance.update()
            .where(instance.c.backend == backend, instance.c.status != 'deprovisioned')
            .values(server_id=server_id)
        ).rowcount
        bind.execute(server.update().where(server.c.id == server_id).values(allocated_instances=placed))


def downgrade() -> None:
    op.drop_column('plan', 'region')
    with op.batch_alter_table('instance') as batch:
        batch.drop_constraint('fk_instance_server', type_='foreignkey')
        batch.drop_index('ix_instance_server_id')
        batch.drop_column('host_unreachable')
        batch.drop_column('reserved_millicpus')
        batch.drop_column('reserved_memory_mb')
        batch.drop_column('server_id')
    op.drop_index(op.f('ix_backup_status'), table_name='backup')
    op.drop_index(op.f('ix_backup_organization_id'), table_name='backup')
    op.drop_index(op.f('ix_backup_instance_id'), table_name='backup')
    op.drop_table('backup')
    op.drop_index(op.f('ix_server_state'), table_name='server')
    op.drop_table('server')
