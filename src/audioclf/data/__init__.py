"""Datasets: manifests, label operations, splits, reports."""
