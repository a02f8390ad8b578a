"""The ``corpus`` command: the only place that parses arguments, prints for people, or exits.

Exit status: 0 success (possibly with warnings), 1 nothing could be built or
an operation failed, 2 bad usage or configuration.

One module per group of subcommands (``build``: build and stage; ``text``: split, align,
eval, encoder-eval; ``dataset``: export, publish; ``pairs``: pair-docs and build's
``--pair``); ``options`` holds what they share.
Each subcommand is a pair of functions: ``add_NAME(subparsers)`` declares its
arguments and sets ``func`` to ``_run_NAME(args) -> int``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from corpus._version import __version__
from corpus.cli import build, dataset, pairs, text
from corpus.cli.options import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Help, warn
from corpus.errors import ConfigError, CorpusError

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "main"]

# Every subcommand's add_NAME function, in the order --help lists them.
ADDERS: list[Callable[[argparse._SubParsersAction], None]] = [
    build.add_build,
    text.add_split,
    text.add_align,
    text.add_eval,
    text.add_encoder_eval,
    dataset.add_export,
    dataset.add_publish,
    build.add_stage,
    pairs.add_pair_docs_parser,
]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="corpus",
        description="Build aligned Chinese–English parallel corpora.",
        formatter_class=Help,
    )
    parser.add_argument("--version", action="version", version=f"corpus {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in ADDERS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Ctrl-C (SIGINT) gives one line and status 130. Run as the program
    (``argv`` None), a Ctrl-C that CPython could not raise (it came while a
    finalizer ran) still counts, and SIGINT is ignored once the command is
    done, so an interrupt while the interpreter shuts down cannot turn a
    finished command into a traceback.
    """
    swallowed: list[object] = []
    if argv is None:
        _record_swallowed_interrupts(swallowed)
    try:
        args = _parser().parse_args(argv)
        status = int(args.func(args))
        if swallowed:
            raise KeyboardInterrupt
        return status
    except ConfigError as exc:
        warn(f"config error: {exc}")
        return EXIT_USAGE
    except CorpusError as exc:
        warn(f"error: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        warn("interrupted")
        return 130
    finally:
        if argv is None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _record_swallowed_interrupts(seen: list[object]) -> None:
    """Append to ``seen``, instead of printing, each KeyboardInterrupt that CPython
    reports as "Exception ignored" (raised while a finalizer ran); others print as usual."""
    default = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            seen.append(unraisable.exc_value)
        else:
            default(unraisable)

    sys.unraisablehook = hook
