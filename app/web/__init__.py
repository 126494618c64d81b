"""HTTP surface: the GraphQL endpoint, health checks and the bundled frontend."""
