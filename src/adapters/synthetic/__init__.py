"""Synthetic market: a seedable trade generator standing in for a real feed."""
