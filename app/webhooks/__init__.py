"""Signed webhooks: signing, the address check, and the request a delivery sends."""
