"""Pure business rules: no I/O, nothing of the app imported."""
