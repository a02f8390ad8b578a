"""Encoder evaluation on line-aligned bitext (Tatoeba style): read the files, embed, score."""

from __future__ import annotations

import os
from typing import Any

from corpus.embed.base import Encoder
from corpus.embed.retrieval import retrieval_errors
from corpus.errors import InputError
from corpus.formats import read_lines


def _read_lines(path: str | os.PathLike[str]) -> list[str]:
    """Lines of a UTF-8 file (:func:`corpus.formats.read_lines`); InputError if it has no text."""
    lines = read_lines(path)
    if not any(line.strip() for line in lines):
        raise InputError(path, "has no text", "no_text")
    return lines


def read_aligned_lines(
    zh_path: str | os.PathLike[str], en_path: str | os.PathLike[str]
) -> tuple[list[str], list[str]]:
    """The lines of two files where line i of one translates line i of the other.

    InputError if a file is unreadable, empty, or the line counts differ.
    """
    zh, en = _read_lines(zh_path), _read_lines(en_path)
    if len(zh) != len(en):
        raise InputError(
            en_path, f"has {len(en)} lines but {zh_path} has {len(zh)}; files must be line-aligned"
        )
    return zh, en


def encoder_eval(encoder: Encoder, zh: list[str], en: list[str], k: int = 4) -> dict[str, Any]:
    """Retrieval error of ``encoder`` on line-aligned ``zh``/``en`` sentences, both directions.

    Returns the four error fractions of
    :func:`~corpus.embed.retrieval.retrieval_errors` plus ``encoder``,
    ``version``, ``pairs`` and ``k``.
    """
    errors = retrieval_errors(encoder.encode(zh, "zh"), encoder.encode(en, "en"), k)
    return {"encoder": encoder.name, "version": encoder.version, "pairs": len(zh), "k": k, **errors}
