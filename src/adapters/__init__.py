"""Adapters: one package per technology, fitting the application's ports."""
