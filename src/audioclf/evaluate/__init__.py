"""Evaluation: metrics, reports, cross-corpus, leaderboards."""
