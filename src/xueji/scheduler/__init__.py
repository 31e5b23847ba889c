"""Timers and background jobs: claim due rows, advance instances."""
