"""Entrypoints: HTTP app, ingestion runner, CLI and the one composition root."""
