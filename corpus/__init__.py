"""zh–en parallel-corpus builder: documents in, aligned Hugging Face dataset out.

The library API is listed in ``__all__``: :func:`build` (a whole build, as
``corpus build`` runs it), :func:`align_sentences` and :func:`align_embedded`
(the sentence aligner), :func:`score_alignments` (gold scoring),
:func:`load_encoder`, :class:`Config` / :func:`load_config`, the records that
flow between the stages, and the error family. The stages live in their own
modules (``extract``, ``split``, ``embed``, ``align``, ``filters``,
``publish``, ``report``); ``stages`` declares them and ``pipeline`` runs them.
Importing this package loads no model, and :func:`build` / :class:`BuildSummary` (the
pipeline, its readers and engines) load on first use, so a command that only aligns or
scores does not import them.
"""

from typing import TYPE_CHECKING, Any

from corpus._version import __version__
from corpus.align import align_embedded, align_lengths, align_sentences
from corpus.config import Config, load_config
from corpus.embed import Encoder, load_encoder
from corpus.errors import CorpusError, InputError
from corpus.evaluate import Scores, score_alignments
from corpus.records import (
    Block,
    Document,
    Drop,
    Extracted,
    Link,
    Pair,
    Passage,
    Sentence,
    Skipped,
)

if TYPE_CHECKING:
    from corpus.pipeline import BuildSummary, build


def __getattr__(name: str) -> Any:
    """``build`` and ``BuildSummary`` from :mod:`corpus.pipeline`, imported when first asked."""
    if name in ("build", "BuildSummary"):
        from corpus import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'corpus' has no attribute {name!r}")


__all__ = [
    "Block",
    "BuildSummary",
    "Config",
    "CorpusError",
    "Document",
    "Drop",
    "Encoder",
    "Extracted",
    "InputError",
    "Link",
    "Pair",
    "Passage",
    "Scores",
    "Sentence",
    "Skipped",
    "__version__",
    "align_embedded",
    "align_lengths",
    "align_sentences",
    "build",
    "load_config",
    "load_encoder",
    "score_alignments",
]
