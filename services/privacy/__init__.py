"""Personal data: a person's export and the erasure of their account (GDPR)."""
