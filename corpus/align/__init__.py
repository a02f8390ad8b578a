"""Sentence alignment: a monotone DP over embedding similarity in a narrow band.

One module per job: :mod:`~corpus.align.dp` (the DP core, numpy: the reference),
:mod:`~corpus.align.kernel` (the same passes compiled with numba, ``align.kernel``),
:mod:`~corpus.align.terms`
(length, boundary and punctuation terms), :mod:`~corpus.align.scores` (link
scores from vectors, pass 1 and pass 2), :mod:`~corpus.align.search` (band,
max-marginals, candidates, the two passes: the algorithm is described there),
:mod:`~corpus.align.baseline` (Gale–Church, length only) and
:mod:`~corpus.align.io` (sentence-per-line files in, gold format out).
"""

from corpus.align.baseline import align_lengths
from corpus.align.io import align_file
from corpus.align.search import align_embedded, align_sentences
from corpus.align.terms import join_sentences, link_types

__all__ = [
    "align_embedded",
    "align_file",
    "align_lengths",
    "align_sentences",
    "join_sentences",
    "link_types",
]
