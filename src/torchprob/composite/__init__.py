"""Distributions built from other distributions: transformed, independent, mixtures."""
