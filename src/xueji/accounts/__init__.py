"""Administering accounts: users (create, disable, reset, roles, station) and API tokens."""
