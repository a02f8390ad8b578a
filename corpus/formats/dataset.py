"""The rows of the published dataset: its columns and features, a pair as a row, and the
rows read back (see :mod:`corpus.formats`)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from corpus.errors import InputError
from corpus.records import Pair

__all__ = [
    "SCORE_COLUMNS",
    "columns",
    "features",
    "features_yaml",
    "pair_record",
    "read_dataset",
]

# dataset column -> Pair.scores key; the column name says which score it is.
SCORE_COLUMNS: dict[str, str] = {
    "score_cosine": "cosine",
    "score_margin": "margin",
    "p_correct": "p_correct",
    "len_ratio": "len_ratio",
    "zh_chars": "zh_chars",
    "en_chars": "en_chars",
    "en_words": "en_words",
    "han_share": "han_share",
    "latin_share": "latin_share",
    "num_mismatch": "num_mismatch",
}
_INT_COLUMNS = {"zh_chars", "en_chars", "en_words", "num_mismatch"}


def columns(with_reason: bool = False, paired: bool = False) -> list[tuple[str, str]]:
    """(name, type) of every dataset column, in order. Types: ``translation`` (a
    ``{"en", "zh"}`` pair), ``string``, ``int32``, ``float64``, ``bool``, ``list<int32>``.

    Columns: translation; doc_id; zh_ids, en_ids (0-based sentence ids within
    the document); link ("1-2": zh count first); score_cosine and score_margin
    (None when the aligner gave none); p_correct (the calibrated probability that
    the link is exactly right, see :mod:`corpus.confidence`); len_ratio (en / zh content characters);
    zh_chars, en_chars, en_words; han_share, latin_share; num_mismatch;
    reviewed (a person's review decision was applied to the pair); for a paired crawl
    zh_source, en_source, doc_score (documents, pairing score); for rejected rows, reason.
    """
    cols = [
        ("translation", "translation"),
        ("doc_id", "string"),
        ("zh_ids", "list<int32>"),
        ("en_ids", "list<int32>"),
        ("link", "string"),
    ]
    cols += [(c, "int32" if c in _INT_COLUMNS else "float64") for c in SCORE_COLUMNS]
    cols.append(("reviewed", "bool"))
    cols += [("zh_source", "string"), ("en_source", "string"), ("doc_score", "float64")] * paired
    return cols + [("reason", "string")] if with_reason else cols


def features(with_reason: bool = False, paired: bool = False) -> Any:
    """The ``datasets.Features`` of a dataset row (see :func:`columns`)."""
    import datasets

    def feature(kind: str) -> Any:
        if kind == "translation":
            return datasets.Translation(languages=["en", "zh"])
        if kind.startswith("list<"):
            return datasets.Sequence(datasets.Value(kind[5:-1]))
        return datasets.Value(kind)

    return datasets.Features({name: feature(kind) for name, kind in columns(with_reason, paired)})


def features_yaml(with_reason: bool = False, paired: bool = False) -> list[dict[str, Any]]:
    """The features as the dataset card's ``dataset_info.features`` list (the Hub's YAML form)."""
    out: list[dict[str, Any]] = []
    for name, kind in columns(with_reason, paired):
        if kind == "translation":
            out.append({"name": name, "dtype": {"translation": {"languages": ["en", "zh"]}}})
        elif kind.startswith("list<"):
            out.append({"name": name, "list": kind[5:-1]})
        else:
            out.append({"name": name, "dtype": kind})
    return out


def pair_record(pair: Pair, with_reason: bool = False, doc: Mapping | None = None) -> dict:
    """One dataset row of ``pair`` (see :func:`features`); ``doc``: a paired crawl's
    ``zh_source``, ``en_source`` and ``doc_score`` of the pair's document."""
    row: dict[str, Any] = {
        "translation": {"en": pair.en, "zh": pair.zh},
        "doc_id": pair.doc_id,
        "zh_ids": list(pair.zh_ids),
        "en_ids": list(pair.en_ids),
        "link": pair.link,
    }
    for col, key in SCORE_COLUMNS.items():
        value = pair.scores.get(key)
        row[col] = None if value is None else (int(value) if col in _INT_COLUMNS else float(value))
    row["reviewed"] = pair.review is not None
    if doc is not None:
        row.update({k: doc[k] for k in ("zh_source", "en_source", "doc_score")})
    if with_reason:
        row["reason"] = pair.reason
    return row


def read_dataset(
    dataset_dir: str | os.PathLike[str], splits: Sequence[str]
) -> dict[str, list[Pair]]:
    """The pairs of a dataset folder written by :func:`corpus.publish.write_dataset`, by split.

    Reads the parquet files in ``data/`` directly (no ``load_dataset`` cache is
    written). InputError if the folder holds no dataset or a file of a split
    not in ``splits``.
    """
    import pyarrow.parquet as pq

    folder = Path(dataset_dir)
    files = sorted((folder / "data").glob("*.parquet"))
    if not (folder / "README.md").is_file() or not files:
        raise InputError(
            folder, "not a dataset folder (README.md and data/*.parquet expected)", "not_dataset"
        )
    out: dict[str, list[Pair]] = {}
    for path in files:
        split = path.name.split("-", 1)[0]
        if split not in splits:
            raise InputError(
                path, f"unknown split {split!r}; expected one of {', '.join(splits)}", "not_dataset"
            )
        for row in pq.read_table(path).to_pylist():
            scores = {
                key: float(row[col])
                for col, key in SCORE_COLUMNS.items()
                if row.get(col) is not None
            }
            out.setdefault(split, []).append(
                Pair(
                    row["doc_id"],
                    row["translation"]["zh"],
                    row["translation"]["en"],
                    tuple(row["zh_ids"]),
                    tuple(row["en_ids"]),
                    scores,
                )
            )
    return {s: out[s] for s in splits if s in out}
