"""The scorer: file format round trip, hand-made strict/lax/exact cases, gold against itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.cli import main
from corpus.errors import AlignmentError, InputError
from corpus.evaluate import merge_within_units, read_pairs, score_alignments
from corpus.formats import format_link, parse_link, read_alignments
from corpus.records import Link


def L(src: tuple[int, ...], tgt: tuple[int, ...], score: float = 0.0) -> Link:
    return Link(src, tgt, score)


def test_parse_and_format_round_trip() -> None:
    for line in ["[0,1]:[0]", "[5]:[]", "[]:[7]", "[2]:[1,2,3]"]:
        assert format_link(parse_link(line), with_score=False) == line
    link = parse_link("[0,1]:[0]:0.8123")
    assert link == L((0, 1), (0,), 0.8123)
    assert format_link(link) == "[0,1]:[0]:0.8123"


@pytest.mark.parametrize("bad", ["[0]", "[a]:[1]", "0:1", "[0]:[1]:x"])
def test_parse_rejects_malformed(bad: str) -> None:
    with pytest.raises(AlignmentError):
        parse_link(bad)


def test_read_alignments_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "x.align"
    path.write_text("[0]:[0]\n\n[1]:[1,2]:0.5\nnonsense\n", encoding="utf-8")
    with pytest.raises(AlignmentError, match=r"x\.align:4"):
        read_alignments(path)
    with pytest.raises(InputError):
        read_alignments(tmp_path / "missing.align")


def test_hand_made_case_strict_lax_exact() -> None:
    gold = [L((0,), (0,)), L((1,), (1, 2)), L((2,), ()), L((), (3,))]
    pred = [L((0,), (0,)), L((1,), (1,)), L((), (2,)), L((2,), ()), L((), (3,))]
    s = score_alignments([(gold, pred)])
    assert s.exact[:2] == pytest.approx((3 / 5, 3 / 4))
    assert s.strict[:2] == pytest.approx((3 / 5, 1 / 2))
    # [1]:[1] overlaps the gold targets of source 1; []:[2] is a wrong null link.
    assert s.lax[:2] == pytest.approx((4 / 5, 1.0))
    assert s.exact[2] == pytest.approx(2 * 0.6 * 0.75 / 1.35)


def test_counts_are_pooled_not_averaged() -> None:
    doc1 = ([L((0,), (0,))], [L((0,), (0,))])
    doc2 = ([L((0,), (0,)), L((1,), (1,)), L((2,), (2,))], [L((0, 1, 2), (0, 1, 2))])
    s = score_alignments([doc1, doc2])
    assert s.exact[:2] == pytest.approx((1 / 2, 1 / 4))


def test_gold_against_itself_is_perfect(eval_dir: Path) -> None:
    pairs = read_pairs(eval_dir / "mac-dev" / "gold", eval_dir / "mac-dev" / "gold")
    s = score_alignments([(g, p) for _, g, p in pairs])
    assert s.exact == s.strict == s.lax == (1.0, 1.0, 1.0)
    assert s.gold_links == 1329


def test_merge_within_units() -> None:
    links = [L((0,), (0,)), L((1,), (1,)), L((2,), (2,)), L((), (3,))]
    merged = merge_within_units(links, ["a", "a", "b"], ["a", "a", "b", "b"])
    assert [(k.src, k.tgt) for k in merged] == [((0, 1), (0, 1)), ((2,), (2, 3))]


def test_cli_eval_json_and_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold, pred = tmp_path / "gold", tmp_path / "pred"
    gold.mkdir()
    pred.mkdir()
    (gold / "a.align").write_text("[0]:[0]\n[1]:[1]\n", encoding="utf-8")
    (pred / "a.align").write_text("[0]:[0]:0.9\n[1]:[]:0\n[]:[1]:0\n", encoding="utf-8")
    assert main(["eval", str(gold), str(pred), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exact_p"] == pytest.approx(1 / 3)
    assert out["exact_r"] == pytest.approx(1 / 2)
    (gold / "b.align").write_text("[0]:[0]\n", encoding="utf-8")
    assert main(["eval", str(gold), str(pred)]) == 1
