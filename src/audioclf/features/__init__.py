"""Feature frontends, hand-crafted vectors and the feature cache."""
