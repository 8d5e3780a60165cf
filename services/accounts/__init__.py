"""Accounts: sign-up, e-mail verification, sign-in, sessions, password reset and change."""
