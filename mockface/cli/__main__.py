"""``python -m mockface.cli`` runs the command-line interface, as ``python -m mockface`` does."""
from . import main

main()
