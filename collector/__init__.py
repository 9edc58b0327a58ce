"""gpubench collector: everything that produces data (inventory, fleet runs, parsers, the data store)."""

__version__ = "0.1.0"
