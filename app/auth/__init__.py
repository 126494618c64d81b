"""Identities, passwords, tokens, API keys and the permission policy."""
