"""``edgeq inspect``: :class:`~edgeq.model.analysis.ModelInfo` as text."""

from __future__ import annotations

from edgeq.model.analysis import ModelInfo, OpInfo, TensorInfo
from edgeq.textfmt import format_table


def render_model(info: ModelInfo) -> str:
    """Render ``info`` as a readable report: header, ops table, totals."""
    lines = [
        f"model    {info.file}  ({info.size_bytes:,} bytes, sha256 {info.sha256[:12]})",
        f"schema   v{info.version}, {info.tensor_count} tensors, {len(info.ops)} ops"
        + (f"  ({info.description})" if info.description else ""),
        *(f"input    {_tensor_line(t)}" for t in info.inputs),
        *(f"output   {_tensor_line(t)}" for t in info.outputs),
        "",
        format_table(
            ["#", "op", "input", "weights", "output", "dtypes", "output scale/zp", "weight quant", "MACs", "float"],
            [_op_row(op) for op in info.ops],
            "rlllllllrl",
        ),
        "",
        f"total MACs     {info.total_macs:,}",
        f"parameters     {info.parameter_bytes:,} bytes",
        f"activations    {info.activation_bytes:,} bytes "
        f"(peak live {info.peak_activation_bytes:,} bytes, no in-place reuse)",
        f"float ops      {_float_ops(info)}",
        "op counts      " + ", ".join(f"{name} {n}" for name, n in info.op_counts.items()),
    ]
    return "\n".join(lines)


def _float_ops(info: ModelInfo, shown: int = 12) -> str:
    if not info.float_ops:
        return "none"
    names = [f"{i} {info.ops[i].op}" for i in info.float_ops[:shown]]
    more = f", ... ({len(info.float_ops)} in all)" if len(info.float_ops) > shown else ""
    return f"{len(info.float_ops)}: " + ", ".join(names) + more


def _shape_str(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "scalar"


def _tensor_line(t: TensorInfo) -> str:
    text = f"{t.index} {t.name}  {_shape_str(t.shape)} {t.dtype}"
    if t.quant_count:
        more = f" ... ({t.quant_count})" if t.quant_count > len(t.scale) else ""
        scales = ", ".join(f"{s:.6g}" for s in t.scale)
        zps = ", ".join(map(str, t.zero_point))
        text += f"  scale {scales}{more}  zp {zps}{more}"
    return text


def _op_row(op: OpInfo) -> list[str]:
    data = [t for t in op.inputs if t is not None and not t.is_constant]
    weights = [t for t in op.inputs if t is not None and t.is_constant and len(t.shape) > 1]
    return [
        str(op.index),
        op.op,
        ", ".join(_shape_str(t.shape) for t in data) or "-",
        ", ".join(_shape_str(t.shape) for t in weights) or "-",
        ", ".join(_shape_str(t.shape) for t in op.outputs) or "-",
        "/".join(op.dtypes),
        ", ".join(_quant_short(t) for t in op.outputs) or "-",
        ", ".join(_weight_quant(t) for t in weights) or "-",
        f"{op.macs:,}" if op.macs else "-",
        "float" if op.is_float else "",
    ]


def _quant_short(t: TensorInfo) -> str:
    return f"{t.scale[0]:.4g}/{t.zero_point[0] if t.zero_point else 0}" if t.quant_count else "-"


def _weight_quant(t: TensorInfo) -> str:
    if not t.quant_count:
        return t.dtype
    return f"per-channel ({t.quant_count})" if t.per_channel else "per-tensor"
