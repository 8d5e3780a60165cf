"""Background jobs on huey: SQLite storage by default, Redis when REDIS_URL is set."""
