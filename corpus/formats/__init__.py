"""Every file format the builder reads or writes, in one place.

Work files (one per unit and stage under ``OUT/work/<unit>/``, plus the
corpus-level ``OUT/filtered.jsonl``) are JSON lines. The first line of each is
a header ``{"kind": "header", "format": NAME, "version": N}``; every later line
has a ``kind`` saying what it holds:

    sentences.jsonl   inputs (files and their SHA-256), document, skipped
    alignment.jsonl   document (doc_id and links in the gold format)
    scored.jsonl      pair (texts, ids, scores; no verdict)
    filtered.jsonl    stats (what the report counts), info (input hash, splitter), pair (with verdict)

``embeddings.npz`` holds one array per document and side, ``{i}.zh`` and
``{i}.en`` (i = the document's position in sentences.jsonl), float32 rows
L2-normalised.

The gold alignment format (``.align``: one link per line ``[0,1]:[0]``, with an
optional score ``[0,1]:[0]:0.8123``; ``[5]:[]`` and ``[]:[7]`` are null links)
is read and written here too, as are the rows of the published dataset
(:func:`pair_record`, :func:`read_dataset`) and the sentence-per-line files of
``corpus align`` (:func:`read_lines`). The review decisions file that the
report downloads is read in :mod:`corpus.decisions`.

A reader given a file of another format or version raises CorpusError naming
the file (stage keys change with the format version: a build rewrites them).
"""

from corpus.formats.dataset import (
    SCORE_COLUMNS,
    columns,
    features,
    features_yaml,
    pair_record,
    read_dataset,
)
from corpus.formats.work import (
    FORMATS,
    format_link,
    iter_filtered,
    pair_to_row,
    parse_link,
    read_alignment,
    read_alignments,
    read_embeddings,
    read_filtered,
    read_lines,
    read_scored,
    read_sentences,
    row_to_pair,
    write_alignment,
    write_alignments,
    write_embeddings,
    write_filtered,
    write_scored,
    write_sentences,
)

__all__ = [
    "FORMATS",
    "SCORE_COLUMNS",
    "columns",
    "features",
    "features_yaml",
    "format_link",
    "iter_filtered",
    "pair_record",
    "pair_to_row",
    "parse_link",
    "read_alignment",
    "read_alignments",
    "read_dataset",
    "read_embeddings",
    "read_filtered",
    "read_lines",
    "read_scored",
    "read_sentences",
    "row_to_pair",
    "write_alignment",
    "write_alignments",
    "write_embeddings",
    "write_filtered",
    "write_scored",
    "write_sentences",
]
