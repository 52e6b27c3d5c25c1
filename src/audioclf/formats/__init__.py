"""The on-disk contracts: manifests, run folders, and the one way audioclf writes a file."""
