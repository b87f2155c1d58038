"""``edgeq convert``: the conversion report and the mixed-precision result as text.

``edgeq qat`` and ``edgeq convert --cluster/--prune`` print the conversion report too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgeq.textfmt import format_table

if TYPE_CHECKING:
    from edgeq.convert.report import ConversionReport
    from edgeq.quant.mixed import MixedResult
    from edgeq.quant.mixed_bits import MixedBitsResult


def render_report(report: ConversionReport) -> str:
    """The human-readable conversion summary."""
    kind = f"{report.mode} model" + (" with int4 weights" if report.weights else "")
    lines: list[str | None] = [f"{report.output}: {kind}, {report.output_bytes:,} bytes"]
    if report.float_tflite_bytes:
        lines.append(f"  float TFLite {report.float_tflite_bytes:,} bytes -> ratio {report.size_ratio:.3f}")
    for kind, tensors in (("input", report.inputs), ("output", report.outputs)):
        for t in tensors:
            q = f", scale {t.scale:.6g}, zero point {t.zero_point}" if t.scale else ""
            lines.append(f"  {kind} {t.name} {list(t.shape)} {t.dtype}{q}")
    if report.samples_used is not None:
        lines.append(f"  calibrated on {report.samples_used} samples of {report.data} (seed {report.seed})")
    lines += _calibration_lines(report.calibration)
    lines += _weights_lines(report.weights)
    lines.append(_fidelity_line(report.fidelity))
    if report.float_ops:
        lines.append(
            f"  {len(report.float_ops)} op(s) kept in float: " + ", ".join(f.describe() for f in report.float_ops)
        )
    rows = [[op, ", ".join(f"{d} x{n}" for d, n in dtypes.items())] for op, dtypes in report.ops_by_type.items()]
    lines += [
        "",
        format_table(["op", "output dtype x count"], rows),
        "",
        f"done in {report.seconds:.1f} s",
    ]
    return "\n".join(line for line in lines if line is not None)


def _weights_lines(weights: dict[str, Any] | None) -> list[str]:
    """Which layers have int4 weights, which quantizer made the model, the weight bytes saved."""
    if not weights:
        return []
    layers = weights["layers"]
    sizes = weights["weight_bytes"]
    head = (
        f"  weights: int4 on {weights['int4_layers']} of {len(layers)} conv/depthwise/dense layers, "
        f"{sizes['int8']:,} -> {sizes['chosen']:,} bytes of weights (made by the {weights['quantizer']})"
    )
    rows = [
        f"    int{r['bits']} {r['op']} {r['layer'] or r['output']} {list(r['shape'])}: "
        f"{r['int4_bytes'] if r['bits'] == 4 else r['int8_bytes']:,} bytes"
        for r in layers
    ]
    return [head, *rows]


def _fidelity_line(fidelity: dict[str, Any] | None) -> str | None:
    if not fidelity:
        return None
    held_out = fidelity.get("held_out")
    which = "held-out samples (not used for calibration)" if held_out else "calibration samples (no held-out data)"
    parts = [f"vs float on {fidelity['samples']} {which}:"]
    if fidelity.get("top1_agreement") is not None:
        parts.append(f"top-1 agreement {100 * fidelity['top1_agreement']:.1f} %,")
    snr = fidelity.get("snr_db")
    parts.append(f"output SNR {snr:.1f} dB," if snr is not None else "outputs identical,")
    parts.append(f"RMSE {fidelity['rmse']:.4g}")
    return "  " + " ".join(parts)


def _calibration_lines(calibration: dict[str, Any] | None, shown: int = 5) -> list[str]:
    """How the activation ranges were chosen and which were clipped the most."""
    if not calibration:
        return []
    method = calibration["method"] + (f" {calibration['percentile']:g}" if calibration["percentile"] else "")
    method += ", symmetric" if calibration["symmetric"] else ""
    tensors = calibration["tensors"]
    if not tensors:
        return [f"  calibration: {method} (TFLite's own ranges)"]
    head = (
        f"  calibration: {method}: {calibration['clipped_tensors']} of {len(tensors)} activation ranges clipped, "
        f"median width {100 * calibration['median_ratio']:.0f} % of min/max"
    )
    worst = sorted((t for t in tensors if t["clipped_fraction"] > 0), key=lambda t: t["ratio"])[:shown]
    rows = [
        f"    {t['name']}: [{t['min']:.4g}, {t['max']:.4g}] -> [{t['lo']:.4g}, {t['hi']:.4g}] "
        f"({100 * t['ratio']:.1f} % of the width, {100 * t['clipped_fraction']:.3g} % of values clipped)"
        for t in worst
    ]
    return [head, *rows]


def render_mixed(result: MixedResult) -> str:
    """The human-readable summary ``edgeq convert --accuracy-budget`` prints."""
    pts = f"{result.metric}: float {100 * result.float_score:.2f}, int8 drop {result.int8_drop_points:+.2f} points"
    lines = [f"accuracy budget {result.budget_points:g} points on {result.eval_samples} samples; {pts}"]
    if not result.kept_float:
        lines.append("  full int8 is within the budget: every layer stays int8")
    for kept in result.kept_float:
        layers = ", ".join(kept.layers) or kept.node
        lines.append(f"  kept float: {kept.op} {layers} (removes {100 * kept.gain:.0f} % of the output error)")
    lines.append(f"  chosen model: drop {result.drop_points:+.2f} points ({result.trials} trials)")
    sizes = ", ".join(f"{k} {v:,} B" for k, v in result.sizes.items())
    latency = ", ".join(f"{k} {v:.3f} ms" for k, v in result.latency_p50_ms.items())
    lines += [f"  size: {sizes}", f"  LiteRT latency p50: {latency}"]
    lines += [f"  warning: {w}" for w in result.warnings]
    return "\n".join(lines)


def render_mixed_bits(result: MixedBitsResult) -> str:
    """The summary ``edgeq convert --weights int4 --accuracy-budget`` prints."""
    pts = (
        f"{result.metric}: float {100 * result.float_score:.2f}, int8 {100 * result.int8_score:.2f}, "
        f"all int4 {100 * result.int4_score:.2f}"
    )
    lines = [f"accuracy budget {result.budget_points:g} points below int8 on {result.eval_samples} samples; {pts}"]
    rows = [
        [
            f"int{c.bits}",
            c.op,
            c.layer or c.output,
            f"{c.saved_bytes:,}" if c.bits == 4 else "-",
            "-" if c.sensitivity is None else f"{c.sensitivity:.3g}",
        ]
        for c in result.layers
    ]
    lines += ["", format_table(["weights", "op", "layer", "bytes saved", "sensitivity"], rows), ""]
    lines.append(
        f"  chosen model: {result.int4_layers} of {len(result.layers)} layers int4, {result.metric} "
        f"{100 * result.score:.2f} ({-result.drop_points:+.2f} points vs int8, {result.trials} trials)"
    )
    sizes = ", ".join(f"{k} {v:,} B" for k, v in result.sizes.items())
    lines += [f"  size: {sizes}", f"  quantizer: {result.quantizer}"]
    return "\n".join(lines)
