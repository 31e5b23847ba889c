"""Correspondence stations (函授站)."""
