"""HTTP clients of the service's own public API (the dashboard is one)."""
