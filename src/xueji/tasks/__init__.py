"""The task inbox."""
