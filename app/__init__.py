"""DeviceGraph: one GraphQL schema and one live event log for trading refurbished devices."""
