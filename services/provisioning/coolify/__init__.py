"""Coolify API v1: the HTTP client (client.py) and the rules our requests must follow (rules.py)."""
