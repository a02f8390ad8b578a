"""``python -m corpus`` is the ``corpus`` command."""

import sys

try:
    from corpus.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command is still starting
    print("corpus: interrupted", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
