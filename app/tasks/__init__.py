"""Background tasks an app process runs beside the API (started from the app's lifespan)."""
