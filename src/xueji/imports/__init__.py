"""Imports of the college's lists: templates, per-row reports, jobs."""
