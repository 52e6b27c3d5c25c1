"""audioclf: train, evaluate and serve audio classifiers on a CPU."""

__version__ = "0.1.0"
