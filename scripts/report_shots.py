"""Screenshots of a built report (overview, document list, one document view) into a folder.

    python scripts/report_shots.py OUT [-o out/shots] [--doc DOC_ID]

Opens OUT/report/report.html from disk in headless Chromium (scripts/browser.py)
and writes overview.png, documents.png and document.png (the given document,
or the one with the lowest coverage) so a person can look at them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import launch  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="build folder OUT")
    parser.add_argument("-o", "--output", default="out/shots", help="folder for the PNGs")
    parser.add_argument("--doc", help="document to show (default: the lowest coverage)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    report = Path(args.out).resolve() / "report" / "report.html"
    data = json.loads(report.with_name("report.json").read_text(encoding="utf-8"))
    doc = args.doc or data["coverage"][0]["doc_id"]
    shots = Path(args.output)
    shots.mkdir(parents=True, exist_ok=True)
    url = report.as_uri()
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = launch(pw, Path(profile))
        page = context.new_page()
        page.goto(url)
        page.screenshot(path=str(shots / "overview.png"))
        page.goto(url + "#documents")
        page.wait_for_selector("#doclist tbody tr")
        page.screenshot(path=str(shots / "documents.png"))
        page.goto(url + "#doc=" + quote(doc, safe=""))
        page.wait_for_selector("#links tbody tr")
        page.screenshot(path=str(shots / "document.png"), full_page=False)
        page.click("#next-weak")
        page.screenshot(path=str(shots / "weakest.png"))
        context.close()
    for name in ("overview", "documents", "document", "weakest"):
        print(shots / f"{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
