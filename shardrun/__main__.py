"""`python -m shardrun` runs the CLI."""

from shardrun.cli import main

main()
