"""The `aplus` subcommands, one module per family; `app/cli.py` assembles them."""
