"""Accounts, strong login (Argon2id + TOTP), terminal-bound sessions, service API keys, training records."""
