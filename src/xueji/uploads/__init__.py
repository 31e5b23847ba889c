"""Uploaded and generated files (photos, scans, rosters)."""
