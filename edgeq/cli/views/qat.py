"""``edgeq qat``: the quantization-aware training result as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edgeq.quant.qat import QatReport


def render_qat(report: QatReport) -> str:
    """The human-readable QAT summary."""
    c, t = report.conversion, report.train
    lines = [f"{c.output}: QAT int8 model, {c.output_bytes:,} bytes"]
    lines.append(f"  fine-tuned {t['epochs']} epoch(s) on {t['samples']} samples of {t['data']} (lr {t['lr']:g})")
    if t["history"]:
        last = t["history"][-1]
        lines.append("  last epoch: " + ", ".join(f"{k} {v:.4f}" for k, v in last.items()))
    if report.accuracy:
        a = report.accuracy
        lines.append(
            f"  accuracy on {a['samples']} samples: float {100 * a['float']:.2f} %, "
            f"PTQ int8 {100 * a['ptq_int8']:.2f} %, QAT int8 {100 * a['qat_int8']:.2f} %"
        )
    lines.append(f"done in {report.seconds:.1f} s")
    return "\n".join(lines)
