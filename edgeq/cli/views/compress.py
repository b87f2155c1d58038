"""``edgeq convert --cluster/--prune``: the compression section as text (after the conversion report)."""

from __future__ import annotations

from typing import Any


def render_compression(section: dict[str, Any]) -> str:
    """Plain and gzip sizes before and after compression, and the accuracies when measured."""
    done = ", ".join(f"{k} {section[k]}" for k in ("cluster", "prune") if section[k] is not None)
    new, old = section["bytes"], section["uncompressed_bytes"]
    lines = [
        f"compression ({done}):",
        f"  int8 .tflite {old['plain']:,} bytes, gzip {old['gzip']:,}",
        f"  compressed   {new['plain']:,} bytes, gzip {new['gzip']:,} (gzip ratio {section['gzip_ratio']:.3f})",
    ]
    acc = section.get("accuracy")
    if acc:
        drop = 100 * (acc["int8"] - acc["compressed_int8"])
        lines.append(
            f"  accuracy on {acc['samples']} samples: float {100 * acc['float']:.2f} %, int8 {100 * acc['int8']:.2f} %,"
            f" compressed int8 {100 * acc['compressed_int8']:.2f} % ({-drop:+.2f} points)"
        )
    return "\n".join(lines)
