"""Better quantization than the TFLite converter alone (issue 7): one report from three benchmark parts.

Parts, each also runnable alone (and each writing its own docs/benchmarks-quant-PART.json):
- ``bench_quant_calibration``: a classifier whose inputs carry rare large glitches, where min/max
  calibration loses points; percentile / MSE / entropy calibration on it and on the zoo;
- ``bench_quant_mixed``: mixed precision under a 0.5-point budget on the zoo and an outlier model;
- ``bench_quant_qat``: QAT vs PTQ on a model where PTQ loses more than 1 point; clustering and pruning.

Writes docs/benchmarks-quant.md (linked from docs/benchmarks.md). ``--from-json`` renders the
parts' last JSON results without re-running them (about 7 minutes in all on 2 cores).
Usage: ``python scripts/bench_quant.py [--from-json]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("calibration", "mixed", "qat")


def part_results(name: str, from_json: bool) -> tuple[object, dict]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    module = importlib.import_module(f"bench_quant_{name}")
    if from_json:
        return module, json.loads(module.OUT_JSON.read_text())
    results = module.run()
    module.OUT_JSON.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return module, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-json", action="store_true", help="Render the parts' saved results; run nothing.")
    args = parser.parse_args(argv)
    sections = []
    for name in PARTS:
        module, results = part_results(name, args.from_json)
        sections.append(module.markdown(results))
    text = (
        "# Quantization beyond min/max: calibration, mixed precision, QAT, clustering\n\n"
        f"`scripts/bench_quant.py`, rendered {date.today()}; each part is one seeded run on a 2-core x86-64 host "
        "(its JSON in docs/benchmarks-quant-*.json). Accuracy in percent on held-out synthetic data.\n\n"
        + "\n\n".join(s.strip() for s in sections)
        + "\n"
    )
    (ROOT / "docs" / "benchmarks-quant.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
