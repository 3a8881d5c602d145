"""``python -m mockface`` runs the command-line interface."""
from .cli import main

main()
