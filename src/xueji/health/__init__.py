"""Health checks (/api/v1/health/live, /ready) and Prometheus metrics (/metrics)."""
