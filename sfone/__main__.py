"""``python -m sfone`` runs the command line."""

from .cli import main

main()
