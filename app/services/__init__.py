"""Use cases: one transaction each, which locks, applies a rule, writes rows and appends events."""
