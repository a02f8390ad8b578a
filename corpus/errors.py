"""The one exception family of the library.

Library code raises these; only :mod:`corpus.cli` turns them into a one-line
message and an exit status.
"""

from __future__ import annotations


class CorpusError(Exception):
    """Base class of every error the library raises on purpose."""


class ConfigError(CorpusError):
    """The configuration (file or flags) is invalid."""


class InputError(CorpusError):
    """An input file cannot be used. The message names the file and the problem.

    ``code`` is a stable snake_case name of the problem (``empty``, ``binary``,
    ``encoding``, ``no_text``, ``no_chinese``, ``no_english``, ``missing_side``,
    ``unsupported``, ``not_found``, ``unreadable``, ``bad_record``, ...) that
    reports count; ``problem`` is the sentence for people.
    """

    def __init__(self, path: object, problem: str, code: str = "unusable") -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem
        self.code = code


class EncoderError(CorpusError):
    """An encoder cannot be loaded or used (missing package, missing model files)."""


class EngineError(CorpusError):
    """The execution engine cannot be used (missing package, unreachable cluster)."""


class AlignmentError(CorpusError):
    """An alignment file or request is malformed."""


class InternalError(CorpusError):
    """An internal invariant failed (a bug, never bad input): the build stops, nothing is
    skipped in its name."""


class WriteError(CorpusError):
    """An output file cannot be written (full disk, no permission); the message names it."""
