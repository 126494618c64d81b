"""Helpers shared by the test suite: databases, a real server, GraphQL calls and factories."""
