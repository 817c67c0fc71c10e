"""``python -m plausibly.cli``: the same as the ``plausibly`` command."""

from plausibly.cli.main import main

main()
