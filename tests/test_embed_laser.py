"""LASER backend: real laserembeddings loading and encoding code on tiny model files.

The test writes the three files in LASER's exact formats (fastBPE codes
``a b count``, fastBPE vocabulary ``token count``, and a torch checkpoint
``{"params", "model", "dictionary"}`` whose state dict has the BiLSTM's key
structure) with RANDOM weights: this proves loading, tokenisation (Moses,
jieba for Chinese), BPE and the BiLSTM max-pool path, never quality.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from corpus.config import EmbedConfig
from corpus.embed import CachedEncoder, get_encoder, load_encoder
from corpus.embed.laser import FILES, MODEL, Laser
from corpus.errors import EncoderError

EMBED, HIDDEN, LAYERS = 6, 4, 2
# fairseq dictionary layout, as in LASER's checkpoint.
DICTIONARY = {
    "<s>": 0,
    "<pad>": 1,
    "</s>": 2,
    "<unk>": 3,
    "hello": 4,
    "world": 5,
    "我们": 6,
    "看": 7,
}
# fastBPE codes: "left right count", end-of-word marked </w>.
CODES = [
    "h e 90",
    "l l 80",
    "he ll 70",
    "hell o</w> 60",
    "w o 50",
    "wo r 40",
    "wor l 30",
    "worl d</w> 20",
    "我 们</w> 10",
]
VOCAB = ["hello 60", "world 20", "我们 10", "看 5"]


def _lstm_state(gen: torch.Generator) -> OrderedDict[str, torch.Tensor]:
    """State dict with the key names and shapes of LASER's bidirectional multi-layer LSTM."""
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    state["embed_tokens.weight"] = torch.randn(len(DICTIONARY), EMBED, generator=gen)
    for layer in range(LAYERS):
        width = EMBED if layer == 0 else 2 * HIDDEN
        for suffix in ("", "_reverse"):
            state[f"lstm.weight_ih_l{layer}{suffix}"] = torch.randn(
                4 * HIDDEN, width, generator=gen
            )
            state[f"lstm.weight_hh_l{layer}{suffix}"] = torch.randn(
                4 * HIDDEN, HIDDEN, generator=gen
            )
            state[f"lstm.bias_ih_l{layer}{suffix}"] = torch.randn(4 * HIDDEN, generator=gen)
            state[f"lstm.bias_hh_l{layer}{suffix}"] = torch.randn(4 * HIDDEN, generator=gen)
    return state


@pytest.fixture(scope="module")
def laser_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("laser")
    (folder / FILES[0]).write_text("\n".join(CODES) + "\n", encoding="utf-8")
    (folder / FILES[1]).write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    checkpoint = {
        "params": {
            "num_embeddings": len(DICTIONARY),
            "padding_idx": DICTIONARY["<pad>"],
            "embed_dim": EMBED,
            "hidden_size": HIDDEN,
            "num_layers": LAYERS,
            "bidirectional": True,
            "left_pad": True,
            "padding_value": 0.0,
        },
        "model": _lstm_state(torch.Generator().manual_seed(7)),
        "dictionary": DICTIONARY,
    }
    torch.save(checkpoint, folder / MODEL)
    return folder


@pytest.fixture(scope="module")
def laser(laser_dir: Path) -> Laser:
    return Laser(str(laser_dir), batch_size=2)


def _reference(laser_dir: Path, tokens: list[str]) -> np.ndarray:
    """LASER's sentence vector computed here: BiLSTM over ids + </s>, max over time, unit norm."""
    state = torch.load(laser_dir / MODEL)["model"]
    lstm = torch.nn.LSTM(EMBED, HIDDEN, num_layers=LAYERS, bidirectional=True)
    lstm.load_state_dict({k[len("lstm.") :]: v for k, v in state.items() if k.startswith("lstm.")})
    ids = [DICTIONARY.get(t, DICTIONARY["<unk>"]) for t in tokens] + [DICTIONARY["</s>"]]
    x = state["embed_tokens.weight"][torch.tensor(ids)].unsqueeze(1)
    with torch.no_grad():
        out, _ = lstm(x)
    vec = out.max(dim=0).values[0].numpy()
    return vec / np.linalg.norm(vec)


def test_loads_tiny_files_and_reads_dim_from_them(laser: Laser) -> None:
    assert laser.dim == 2 * HIDDEN
    assert laser.name == "laser" and laser.uses_lang


def test_english_matches_bilstm_reference(laser: Laser, laser_dir: Path) -> None:
    # "zzz" has no merges: BPE gives z@@ z@@ z, three unknown tokens.
    got = laser.encode(["Hello world", "hello", "zzz"], "en")
    assert got.dtype == np.float32 and got.shape == (3, 2 * HIDDEN)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(got[0], _reference(laser_dir, ["hello", "world"]), atol=1e-5)
    np.testing.assert_allclose(got[1], _reference(laser_dir, ["hello"]), atol=1e-5)
    np.testing.assert_allclose(got[2], _reference(laser_dir, ["<unk>"] * 3), atol=1e-5)


def test_chinese_is_segmented_with_jieba(laser: Laser, laser_dir: Path) -> None:
    # jieba splits 我们看 into 我们 / 看; unsegmented it would be one unknown BPE chain.
    got = laser.encode(["我们看"], "zh")
    np.testing.assert_allclose(got[0], _reference(laser_dir, ["我们", "看"]), atol=1e-5)
    assert not np.allclose(got, laser.encode(["我们看"], "en"), atol=1e-3)


def test_batches_give_the_same_vectors_as_single_calls(laser: Laser) -> None:
    texts = ["hello world", "world", "hello hello world", "world hello", "hello"]
    together = laser.encode(texts, "en")
    alone = np.vstack([laser.encode([t], "en") for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_registry_and_cache_key_on_language(laser_dir: Path, tmp_path: Path) -> None:
    cfg = EmbedConfig(encoder="laser", laser_dir=str(laser_dir), cache_dir=str(tmp_path))
    assert get_encoder(cfg).dim == 2 * HIDDEN
    enc = load_encoder(cfg)
    assert isinstance(enc, CachedEncoder)
    assert enc.key("我们看", "zh") != enc.key("我们看", "en")
    enc.encode(["我们看"], "zh")
    enc.encode(["我们看"], "en")
    assert enc.misses == 2 and enc.hits == 0


@pytest.mark.parametrize("drop", FILES)
def test_missing_file_names_the_files_and_how_to_get_them(
    laser_dir: Path, tmp_path: Path, drop: str
) -> None:
    for name in FILES:
        if name != drop:
            (tmp_path / name).write_bytes((laser_dir / name).read_bytes())
    with pytest.raises(EncoderError) as err:
        Laser(str(tmp_path))
    message = str(err.value)
    assert all(name in message for name in FILES)
    assert "download-models" in message and "--laser-dir" in message


def test_no_folder_given_is_a_clear_error() -> None:
    with pytest.raises(EncoderError, match="no folder given"):
        get_encoder(EmbedConfig(encoder="laser"))


def test_a_foreign_model_file_is_an_encoder_error(laser_dir: Path, tmp_path: Path) -> None:
    for name in FILES:
        (tmp_path / name).write_bytes((laser_dir / name).read_bytes())
    (tmp_path / MODEL).write_bytes(b"not a torch checkpoint")
    with pytest.raises(EncoderError, match="cannot load"):
        Laser(str(tmp_path))
