"""``python -m permadani`` runs the CLI."""

from .cli.app import main

main()
