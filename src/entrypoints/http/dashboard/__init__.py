"""The operator dashboard: an external client of the service's own HTTP API, rendered on the server."""
