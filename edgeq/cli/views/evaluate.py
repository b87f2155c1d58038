"""``edgeq evaluate``: the comparison of a candidate with its reference as text."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edgeq.evaluation import EvaluationResult


def render_evaluation(r: EvaluationResult) -> str:
    """Accuracies (labelled data), top-1 agreement and the output error."""
    lines = [f"{r.samples} samples of {r.data}"]
    ref_acc, cand_acc = r.reference_accuracy, r.candidate_accuracy  # both set when labelled
    if r.labelled and ref_acc is not None and cand_acc is not None:
        lines.append(
            f"  top-1 accuracy  reference {100 * ref_acc:.2f} %  candidate {100 * cand_acc:.2f} %  drop {r.accuracy_drop_points:+.2f} points"
        )
    if r.top1_agreement is not None:
        lines.append(f"  top-1 agreement {100 * r.top1_agreement:.2f} %")
    snr = "inf" if r.snr_db is None else f"{r.snr_db:.1f}"
    lines.append(f"  output RMSE {r.rmse:.4g}, SNR {snr} dB, max abs error {r.max_abs_error:.4g}")
    return "\n".join(lines)
