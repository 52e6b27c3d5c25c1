"""Benchmarks that reproduce docs/benchmarks.md from the real corpora in ../shared/data."""
