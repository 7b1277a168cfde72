"""`python -m shardrun` runs the CLI."""

from .cli import main

main()
