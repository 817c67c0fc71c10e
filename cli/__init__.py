"""plausibly.cli: the command line (thin: parse, call one library function, render)."""

__all__: list[str] = []
