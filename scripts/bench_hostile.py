"""Every hostile file of the readers' tests in one folder, with good documents: one build.

Usage: python scripts/bench_hostile.py [--eval-dir ../shared/eval]

Writes the hostile HTML/DOCX/EPUB files of tests/test_hostile_web.py and the hostile
PDF/subtitle/gzip files of tests/test_hostile_docs.py (with their good documents and a
planted secret file each names) into one folder, runs one real ``corpus build`` with the
default settings (only ``extract.max_doc_chars`` lowered as the web test does, so its long
document is cheap to make), and prints the wall time, the peak resident memory of the
build's processes (``ru_maxrss`` of the children: the largest one, the ``corpus`` process
or a PDF worker), the number of ``corpus: skipped`` / ``warning`` lines, the kept pairs,
and whether any output file holds a planted secret. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

_WRAPPER = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[2:], "
    "stdout=subprocess.DEVNULL, stderr=open(sys.argv[1] + '.err', 'w')); "
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
    "sys.exit(code)"
)


def main() -> None:
    import test_hostile_docs as docs
    import test_hostile_web as web

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        inp, out = tmp / "in", tmp / "out"
        planted = {tmp / "planted-web.txt": web.SECRET, tmp / "planted-docs.txt": docs.SECRET}
        for path, secret in planted.items():
            path.write_text(secret + "\n", encoding="utf-8")
        web.make_folder(args.eval_dir, inp, tmp / "planted-web.txt")
        docs._good(inp, args.eval_dir)
        docs._hostile(inp, tmp / "planted-docs.txt")
        files = sum(1 for p in inp.rglob("*") if p.is_file())
        cmd = [sys.executable, "-m", "corpus", "build", str(inp), "-o", str(out), "-q"]
        cmd += ["--set", f"embed.cache_dir={ROOT / '.cache' / 'embeddings'}"]
        cmd += ["--set", f"extract.max_doc_chars={web.MAX_DOC_CHARS}"]
        rss = tmp / "rss"
        start = time.perf_counter()
        code = subprocess.call([sys.executable, "-c", _WRAPPER, str(rss), *cmd], cwd=ROOT)
        seconds = time.perf_counter() - start
        err = Path(f"{rss}.err").read_text(encoding="utf-8")
        leaked = [
            str(p.relative_to(out))
            for p in out.rglob("*")
            if p.is_file() and any(s.encode() in p.read_bytes() for s in planted.values())
        ]
        summary = json.loads((out / "report" / "report.json").read_text())["funnel"]
        print(
            json.dumps(
                {
                    "input_files": files,
                    "exit_status": code,
                    "seconds": round(seconds, 1),
                    "peak_rss_mb": round(int(rss.read_text()) / 1024),
                    "skipped_lines": err.count("corpus: skipped"),
                    "warning_lines": err.count("corpus: warning"),
                    "tracebacks": err.count("Traceback"),
                    "kept_pairs": summary["pairs"]["kept"],
                    "outputs_with_a_planted_secret": leaked,
                }
            )
        )


if __name__ == "__main__":
    main()
