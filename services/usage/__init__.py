"""Usage reported by instances: per-instance API tokens, batch ingestion, and the budget counter it moves."""
