"""``python -m kosiflow``: the command line."""

from kosiflow.cli import main

main()
