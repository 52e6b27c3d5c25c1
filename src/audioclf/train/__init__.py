"""Training: configuration, the loop with checkpoints and resume, cross-validation."""
