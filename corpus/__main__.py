"""``python -m corpus`` is the ``corpus`` command."""

from corpus.cli import main

raise SystemExit(main())
