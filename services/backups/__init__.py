"""Backups of instances' data volumes: taken, kept, pruned and restored (issue: capacity, item 5)."""
