"""``python -m piguard`` runs the CLI."""

from piguard.cli.main import run

run()
