"""Print the TFLM parity table of docs/model-compatibility.md: rewrite x model -> TFLM's and edgeq's verdicts.

Usage: ``.venv/bin/python scripts/tflm_parity_table.py`` (needs tflite-micro and
LiteRT's flatbuffer schema, as tests/model/test_tflm_parity.py does; about 30 s).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["EDGEQ_CACHE"] = str(Path(tmp) / "cache")
        from tests.model.test_tflm_parity import Parity
        from tests.tflm_rewrites import MODELS

        rows = Parity(Path(tmp)).table()
        models = list(MODELS)
        print("| rewrite | " + " | ".join(f"TFLM / edgeq on {m}" for m in models) + " |")
        print("|---" * (len(models) + 1) + "|")
        by_rewrite: dict[str, list[str]] = {}
        for rewrite, _, tflm, edgeq in rows:
            by_rewrite.setdefault(rewrite, []).append(f"{tflm} / {edgeq}")
        for rewrite, cells in by_rewrite.items():
            print(f"| `{rewrite}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
