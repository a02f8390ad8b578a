"""The PDF worker: pdfminer.six on one PDF, in a process of its own with hard limits.

Run by :mod:`corpus.extract.pdf` as ``python -I pdf_worker.py MAX_PAGES MEMORY_MB
CPU_SECONDS`` with the PDF's bytes on stdin; it imports nothing of the
``corpus`` package (so it starts in a fraction of a second and its memory is
pdfminer's alone). Before it parses anything it limits its own address space
(RLIMIT_AS) to MEMORY_MB and its CPU time (RLIMIT_CPU) to CPU_SECONDS; the
parent adds a wall-clock timeout and kills it past that.

It writes one JSON object to stdout: ``{"pages": [page, ...]}`` where a page is
``{"width": W, "height": H, "lines": [[x0, y0, x1, y1, size, bold, text], ...]}``
(PDF points, origin bottom left; ``size`` the median glyph size, ``bold`` whether
most glyphs are of a bold font), or ``{"error": CODE, "problem": TEXT}`` when
the file cannot be read: ``too_many_pages`` (more than MAX_PAGES pages),
``too_large`` (out of memory), ``encrypted``, ``unreadable`` (pdfminer gave up;
TEXT names its exception), ``missing_package`` (TEXT is the pip line). The
parser sees only the bytes, never a path.
"""

from __future__ import annotations

import json
import resource
import statistics
import struct
import sys
import zlib
from io import BytesIO
from typing import Any

#: Exceptions pdfminer lets out on malformed input besides its own families
#: (it indexes, unpacks and asserts its way through object graphs).
_MALFORMED = (
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    AssertionError,
    RecursionError,
    ZeroDivisionError,
    OverflowError,
    UnicodeError,
    struct.error,
    zlib.error,
    EOFError,
)
_BOLD = ("bold", "black", "heavy", "semibold", "demi")


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def _line(line: Any) -> list[Any] | None:
    from pdfminer.layout import LTChar

    chars = [c for c in line if isinstance(c, LTChar)]
    text = line.get_text().replace("\n", " ").strip()
    if not chars or not text:
        return None
    size = statistics.median(c.size for c in chars)
    bold = sum(any(b in c.fontname.lower() for b in _BOLD) for c in chars) * 2 > len(chars)
    return [line.x0, line.y0, line.x1, line.y1, size, bold, text]


def _pages(data: bytes, max_pages: int) -> dict[str, Any]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextBox, LTTextLine
    from pdfminer.pdfdocument import PDFEncryptionError
    from pdfminer.psexceptions import PSException

    # boxes_flow=None: no hierarchical box ordering (quadratic in boxes); the parent orders lines.
    params = LAParams(boxes_flow=None, detect_vertical=False, all_texts=False)
    pages: list[dict[str, Any]] = []
    try:
        for page in extract_pages(BytesIO(data), laparams=params, maxpages=max_pages + 1):
            if len(pages) == max_pages:
                return {"error": "too_many_pages", "problem": f"more than {max_pages:,} pages"}
            lines = []
            for box in page:
                if isinstance(box, LTTextBox):
                    for line in box:
                        if isinstance(line, LTTextLine) and (found := _line(line)):
                            lines.append(found)
            pages.append({"width": page.width, "height": page.height, "lines": lines})
    except PDFEncryptionError:
        return {"error": "encrypted", "problem": "needs a password or forbids copying"}
    except (PSException, *_MALFORMED) as exc:  # PSException: base of all of pdfminer's own
        return _unreadable(exc)
    return {"pages": pages}


def _unreadable(exc: BaseException) -> dict[str, Any]:
    detail = str(exc).replace("\n", " ")[:120]
    name = type(exc).__name__
    return {"error": "unreadable", "problem": f"{name}: {detail}" if detail else name}


def main() -> int:
    max_pages, memory_mb, cpu_seconds = (int(arg) for arg in sys.argv[1:4])
    data = sys.stdin.buffer.read()
    _limit(memory_mb, cpu_seconds)
    try:
        import pdfminer  # noqa: F401
    except ImportError:
        result = {"error": "missing_package", "problem": "pip install 'pdfminer.six>=20240706'"}
    else:
        try:
            result = _pages(data, max_pages)
        except MemoryError:
            result = {"error": "too_large", "problem": f"needs more than {memory_mb:,} MB"}
    sys.stdout.write(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
