"""The append-only history of every step."""
