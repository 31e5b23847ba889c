"""Deployments and versioned process definitions."""
