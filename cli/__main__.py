"""``python -m plausibly.cli``: the same as the ``plausibly`` command."""

from plausibly.cli.app import main

main()
