"""Metrics and logs: what an operator watches to know that nothing fails silently."""
