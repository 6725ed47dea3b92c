"""Route handlers, grouped by what they serve."""
