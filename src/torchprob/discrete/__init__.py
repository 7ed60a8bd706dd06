"""Discrete families, one per file."""
