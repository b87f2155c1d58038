"""Per-layer quantization error of an int8 model, mapped back to Keras layer names.

For every op of the int8 model whose output is quantized (and every quantized
model input), on the given data:

- ``rmse_scale``: RMSE of the dequantized int8 tensor against the float model's
  tensor of the same name, divided by the tensor's scale. About 0.29
  (1/sqrt(12)) is rounding only; errors accumulate along the graph, so look for
  where the number jumps.
- ``local_rmse_scale``: the op's own error: the int8 op against a float copy of
  it fed the same (dequantized) inputs, from TensorFlow's NumericVerify debug
  model (what ``tf.lite.experimental.QuantizationDebugger`` runs). Available
  when edgeq converts the model itself.
- ``snr_db``: signal (float tensor) to error power, in dB.
- ``median_steps``: the median non-zero float value in quantization steps; a
  few steps or less means the range is far wider than the typical value (an
  outlier stretched it) and resolution is lost even though nothing clips.
- ``range_used`` = scale * [qmin - zp, qmax - zp] against ``range_seen``, the
  float tensor's min and max, and ``saturation``: the fraction of float values
  outside the int8 range (clipped by quantization).

Rows are sorted worst first by ``score``: the local error where known, else
the accumulated one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from edgeq.convert import converter as conv
from edgeq.convert.loader import load_model
from edgeq.data import DEFAULT_SAMPLES, load_dataset
from edgeq.errors import UsageError
from edgeq.litert import Runner
from edgeq.log import logger, progress
from edgeq.model import Graph, read_model
from edgeq.qtypes import DataSource, DataSpec
from edgeq.quant.layer_map import LayerMap
from edgeq.quant.probe import ROUNDING_ONLY, ErrorStats, TensorProbe, dequantize_tensor
from edgeq.quant.requantize import Rewrite, calibrate
from edgeq.quant.tensor_match import align_debug, float_indices, quant_params, range_used, tracked_tensors
from edgeq.tfimport import ModelSource, import_tf


@dataclass(frozen=True)
class LayerStats:
    """The error of one quantized tensor (an op output or a model input)."""

    index: int
    op: str
    tensor: str
    layers: tuple[str, ...]
    note: str | None
    dtype: str
    scale: float
    zero_point: int
    rmse: float | None
    rmse_scale: float | None
    local_rmse_scale: float | None
    snr_db: float | None
    range_used: tuple[float, float]
    range_seen: tuple[float, float] | None
    saturation: float | None
    median_steps: float | None = None

    @property
    def layer(self) -> str | None:
        """The main Keras layer (the first of a fused op), or None."""
        return self.layers[0] if self.layers else None

    @property
    def score(self) -> float | None:
        """What rows are sorted by: the local error when known, else the accumulated error."""
        return self.local_rmse_scale if self.local_rmse_scale is not None else self.rmse_scale

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(layer=self.layer, score=self.score)
        return out


@dataclass(frozen=True)
class AnalysisResult:
    """Per-layer analysis of one int8 model; ``rows`` worst first."""

    model: str
    quantized: str
    data: str
    samples: int
    local_errors: bool
    rows: tuple[LayerStats, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "quantized": self.quantized,
            "data": self.data,
            "samples": self.samples,
            "local_errors": self.local_errors,
            "rounding_only": ROUNDING_ONLY,
            "rows": [r.to_dict() for r in self.rows],
        }


@dataclass(frozen=True)
class _Models:
    float_model: bytes
    int8: bytes
    debug: bytes | None
    layer_map: LayerMap
    arrays: dict[str, Any]
    data: str
    quantized: str


def analyze(
    model: ModelSource,
    data: DataSource,
    *,
    quantized: str | Path | None = None,
    samples: int | None = DEFAULT_SAMPLES,
    seed: int = 0,
    scale: float = 1.0 / 255.0,
    offset: float = 0.0,
    rewrite: Rewrite | None = None,
) -> AnalysisResult:
    """Measure the quantization error of every quantized tensor of an int8 model.

    Args:
        model: the float model: SavedModel folder, ``.keras``/``.h5`` file or
            Keras object (layer names come from it), or a float ``.tflite``
            (then ``quantized`` is required and layers are named by scope).
        data: samples to calibrate on (when converting) and to measure on.
        quantized: an int8 ``.tflite`` converted from ``model``; None converts
            ``model`` with edgeq's int8 settings, which also gives local errors.
        samples, seed: how many samples of ``data`` to use, and the draw.
        scale, offset: image-folder normalisation.
        rewrite: when converting, applied to the calibrated model (another
            calibration method's ranges, see :func:`edgeq.quant.requantize.calibrate`).
    """
    models = _prepare(model, data, quantized, samples, seed, (scale, offset), rewrite)
    rows = measure(models)
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0.0)))
    count = len(next(iter(models.arrays.values())))
    return AnalysisResult(_source(model), models.quantized, models.data, count, models.debug is not None, tuple(rows))


def _prepare(
    model: ModelSource,
    data: DataSource,
    quantized: str | Path | None,
    samples: int | None,
    seed: int,
    norm: tuple[float, float],
    rewrite: Rewrite | None,
) -> _Models:
    scale, offset = norm
    if quantized is None:
        if str(model).lower().endswith(".tflite"):
            raise UsageError(f"{model} is a .tflite: give the TensorFlow model, or the float .tflite with --quantized")
        cal = calibrate(model, data, samples=samples, seed=seed, scale=scale, offset=offset, rewrite=rewrite)
        layer_map = LayerMap.from_loaded(cal.loaded)
        int8, debug = cal.quantize(), cal.quantize(debug=True)
        where = f"{_source(model)} (int8 by edgeq)"
        return _Models(cal.float_model, int8, debug, layer_map, cal.dataset.arrays, cal.dataset.description, where)
    float_model, layer_map, specs = _reference(model)
    loaded = load_dataset(data, specs, samples=samples, seed=seed, scale=scale, offset=offset)
    int8 = Path(quantized).read_bytes()
    return _Models(float_model, int8, None, layer_map, loaded.arrays, loaded.description, str(quantized))


def _source(model: ModelSource) -> str:
    return str(model) if isinstance(model, (str, Path)) else "<keras model>"


def _reference(model: ModelSource) -> tuple[bytes, LayerMap, list[DataSpec]]:
    """Float flatbuffer, layer map and input specs of the float model."""
    if str(model).lower().endswith(".tflite"):
        data = Path(model).read_bytes()
        return data, LayerMap(()), Runner(data).data_specs()
    loaded = load_model(model)
    return conv.convert_float(import_tf(), loaded), LayerMap.from_loaded(loaded), list(loaded.inputs)


def measure(models: _Models) -> list[LayerStats]:
    """Run the float, int8 and (if any) debug models on every sample and build the rows."""
    g8, gf = read_model(models.int8), read_model(models.float_model)
    tracked = tracked_tensors(g8)
    float_index = float_indices(g8, gf, tracked)
    local_pairs = align_debug(read_model(models.debug), g8, tracked) if models.debug else {}
    names = list(models.arrays)
    probes = [TensorProbe(m, names) for m in (models.float_model, models.int8)]
    debug_probe = TensorProbe(models.debug, names) if models.debug else None
    total = {t: ErrorStats() for t in tracked}
    local = {t: ErrorStats() for t in local_pairs}
    count = len(models.arrays[names[0]])
    for i in progress(range(count), count, "analysing layers"):
        sample = [models.arrays[n][i : i + 1] for n in names]
        for probe in (*probes, *([debug_probe] if debug_probe else [])):
            probe.run(sample)
        _update_total(g8, probes, tracked, float_index, total)
        if debug_probe is not None:
            _update_local(g8, debug_probe, local_pairs, local)
    logger.debug("analysed %d tensors on %d samples", len(tracked), count)
    return [_row(g8, t, op, models.layer_map, total[t], local.get(t)) for t, op in tracked.items()]


def _update_total(
    g8: Graph,
    probes: list[TensorProbe],
    tracked: dict[int, int],
    float_index: dict[int, int],
    total: dict[int, ErrorStats],
) -> None:
    float_probe, int8_probe = probes
    for t in tracked:
        if t not in float_index:
            continue
        scale, zp = quant_params(g8, t)  # type: ignore[misc]
        lo, hi = range_used(g8.tensors[t].dtype, scale, zp)
        approx = dequantize_tensor(int8_probe.tensor(t), scale, zp)
        total[t].update(float_probe.tensor(float_index[t]), approx, lo, hi, scale)


def _update_local(
    g8: Graph, debug_probe: TensorProbe, local_pairs: dict[int, tuple[int, int]], local: dict[int, ErrorStats]
) -> None:
    for t, (q, f) in local_pairs.items():
        scale, zp = quant_params(g8, t)  # type: ignore[misc]
        lo, hi = range_used(g8.tensors[t].dtype, scale, zp)
        local[t].update(debug_probe.tensor(f), dequantize_tensor(debug_probe.tensor(q), scale, zp), lo, hi, scale)


def _row(
    g8: Graph, t: int, op_index: int, layer_map: LayerMap, total: ErrorStats, local: ErrorStats | None
) -> LayerStats:
    scale, zp = quant_params(g8, t)  # type: ignore[misc]
    name = g8.tensors[t].name
    layers, note = _layers_of(g8, t, op_index, layer_map)
    rmse = total.rmse
    local_score = local.rmse / scale if local is not None and local.rmse is not None else None
    if op_index < 0 and rmse is not None:
        local_score = rmse / scale  # nothing precedes a model input: its error is its own
    seen = (total.ref_min, total.ref_max) if total.count else None
    return LayerStats(
        t,
        "INPUT" if op_index < 0 else g8.operators[op_index].name,
        name,
        layers,
        note,
        g8.tensors[t].dtype,
        scale,
        zp,
        rmse,
        None if rmse is None else rmse / scale,
        local_score,
        total.snr_db,
        range_used(g8.tensors[t].dtype, scale, zp),
        seen,
        total.saturation,
        None if (median := total.median_magnitude()) is None else median / scale,
    )


def _layers_of(g8: Graph, t: int, op_index: int, layer_map: LayerMap) -> tuple[tuple[str, ...], str | None]:
    name = g8.tensors[t].name
    if op_index < 0:
        layer = layer_map.input_layer(name)
        return ((layer,) if layer else ()), (None if layer else "model input")
    layers = layer_map.layers(name)
    if layers or not layer_map.order:
        return layers, None
    before = [layer_map.layers(g8.tensors[i].name) for i in g8.operators[op_index].inputs if i >= 0]
    after = next((ls[0] for ls in before if ls), None)
    return (), "no Keras layer" + (f" (follows {after})" if after else "")


__all__ = ["AnalysisResult", "LayerStats", "analyze", "measure", "tracked_tensors"]
