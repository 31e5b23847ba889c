"""JSON Schema forms of user tasks and start events."""
