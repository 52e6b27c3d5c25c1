"""``python -m audioclf`` runs the command line."""

from audioclf.cli import app

app()
