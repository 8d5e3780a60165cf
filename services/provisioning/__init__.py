"""Provisioning: instance actions as recorded, retried, idempotent steps, driven through pluggable backends."""
