"""Univariate continuous families, one per file."""
