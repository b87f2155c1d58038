"""int4 weights: file sizes, engine constants, accuracy and Cortex-M4 cost; writes docs/benchmarks-int4.md and .json.

Two parts, in one run:

1. MobileNetV2 1.0, 224x224x3, 1000 classes, built by Keras with seeded random
   weights (``keras.applications.MobileNetV2(weights=None)``, no download).
   Its batch-norm statistics are set from the synthetic images by one forward
   pass in training mode with momentum 0, so that activations keep a sane range
   through the random network (with the initial statistics they shrink to about
   1e-8 and the quantizers calibrate degenerate ranges); file sizes do not
   depend on the values. Data: 48 seeded smooth synthetic images in [-1, 1]
   (MobileNetV2's input range), 32 for calibration and 16 held out for the
   fidelity check. Sizes of the float .tflite (plain ``TFLiteConverter``), the
   int8 .tflite of ``edgeq.convert`` and the int4 one (``weights="int4"``),
   where the int4 file's bytes go, and the compiled engine's constants.
2. The zoo models with a Keras file (tests/fixtures/zoo/<name>/model.keras,
   imu_lstm's model.h5), with the data of scripts/build_zoo.py regenerated as
   scripts/bench_quant_mixed.py does (calibration: the training draw, 200
   samples, seed 20240; evaluation: the held-out test draw): edgeq's int8, the
   AI Edge Quantizer's all-int8 (the reference of the budget), all-int4 and the
   mixed int4/int8 choice of ``edgeq.quant.mixed_bits.mixed_bits`` under a
   budget of 1.0 point; .tflite bytes, the engine's constants (weights,
   biases, requantization), accuracy, the layers kept int8, and instructions
   and estimated cycles of the engine firmware on the emulated Cortex-M4
   (``edgeq.profiling.profile(..., "qemu-m4")``).

Usage: ``python scripts/bench_int4.py [--only NAME]`` (about 5 minutes on two cores; NAME is a zoo
model or mobilenet_v2); without ``--only`` it writes docs/benchmarks-int4.json and .md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
ZOO_DIR = ROOT / "tests" / "fixtures" / "zoo"
OUT_JSON = ROOT / "docs" / "benchmarks-int4.json"
OUT_MD = OUT_JSON.with_suffix(".md")
ZOO = ("kws_dscnn", "ic_resnet8", "vww_mobilenet", "ad_autoencoder", "seg_unet", "imu_lstm")
BUDGET = 1.0  # points below the all-int8 model of the same quantizer and calibration
SEED = 20240  # scripts/build_zoo.py: calibration draw seed
CALIBRATION_SAMPLES = 200
MNV2_SEED = 1
MNV2_IMAGES, MNV2_CALIBRATION = 48, 32  # the other 16 are the fidelity check's held-out samples
GOAL_MNV2_RATIO = 0.16  # int4 .tflite / float .tflite
GOAL_MIXED_RATIO = 0.55  # engine constants, mixed / int8, at <= BUDGET points drop
INT4_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
TIGHT_ROW = 9  # bytes of a per-channel row that keeps only bias, multiplier and a one-byte shift (engine-int4.md)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Measurements shared by both parts


def tflite_breakdown(data: bytes) -> dict[str, Any]:
    """Where a .tflite's bytes go: weights by dtype, biases, per-channel quantization parameters, the rest.

    A quantized tensor stores one float32 scale and one int64 zero point per
    channel (TFLite schema): 12 bytes per entry, for weights and biases alike.
    """
    from edgeq.model import read_model

    graph = read_model(data)
    weights, biases = set(), set()
    for op in graph.operators:
        if op.builtin in INT4_OPS and len(op.inputs) > 1 and op.inputs[1] >= 0:
            weights.add(op.inputs[1])
            if len(op.inputs) > 2 and op.inputs[2] >= 0:
                biases.add(op.inputs[2])
    keys = ("weights_int4", "weights_int8", "weights_float32", "biases", "other_constants", "qparams_per_channel")
    keys += ("qparams_per_tensor", "qparams_bias", "zero_points_per_channel", "nonzero_zero_points_per_channel")
    out: dict[str, Any] = dict.fromkeys(keys + ("weight_channels", "bias_values", "names"), 0)
    out["total"] = graph.size_bytes
    for i, t in enumerate(graph.tensors):
        out["names"] += len(t.name.encode())
        if t.is_constant:
            key = f"weights_{t.dtype}" if i in weights else "biases" if i in biases else "other_constants"
            out[key] = out.get(key, 0) + t.nbytes
            out["bias_values"] += t.size if i in biases else 0
        if not t.quantization:
            continue
        q = t.quantization
        n = len(q.scale)
        out["qparams_per_channel" if n > 1 else "qparams_per_tensor"] += 12 * n
        out["qparams_bias"] += 12 * n if i in biases else 0
        out["weight_channels"] += n if i in weights else 0
        if n > 1:
            out["zero_points_per_channel"] += 8 * len(q.zero_point)
            out["nonzero_zero_points_per_channel"] += sum(1 for z in q.zero_point if z)
    parts = sum(out[k] for k in keys[:7]) + out["names"]
    out["structure"] = out["total"] - parts  # flatbuffer tables, shapes, op options, metadata, alignment
    out["bias_scale_error"] = bias_scale_error(graph)
    return out


def bias_scale_error(graph: Any) -> float:
    """Largest relative difference between a bias scale and input scale x weight scale (0 when derivable)."""
    worst = 0.0
    for op in graph.operators:
        if op.builtin not in INT4_OPS or len(op.inputs) < 3 or op.inputs[2] < 0:
            continue
        x, w, b = (graph.tensors[op.inputs[k]].quantization for k in range(3))
        if x is None or w is None or b is None:
            continue
        expected = np.asarray(w.scale, np.float64) * x.scale[0]
        worst = max(worst, float(np.max(np.abs(np.asarray(b.scale, np.float64) / expected - 1.0))))
    return worst


def engine_constants(data: bytes, label: str) -> dict[str, Any]:
    """The compiled engine's constant bytes (``edgeq generate --format engine --json``'s ``constants``)."""
    from edgeq.codegen.context import model_context
    from edgeq.codegen.engine.build import build_engine
    from edgeq.errors import EdgeqError
    from edgeq.model import read_model

    graph = read_model(data, name=label)
    try:
        engine = build_engine(graph, model_context(graph, label, "bench"))
    except EdgeqError as exc:
        return {"error": str(exc)}
    variants = {str(op): variant for op, variant in sorted(engine.schedule.chosen.items())}
    smallest = build_engine(graph, model_context(graph, label, "bench"), optimize="ram").plan.arena_bytes
    return {
        **engine.constants.to_dict(),
        "arena_bytes": engine.plan.arena_bytes,
        "arena_bytes_optimize_ram": smallest,
        "variants": variants,
    }


def m4_profile(path: Path) -> dict[str, Any]:
    """Instructions and estimated cycles per inference of the engine firmware on the emulated Cortex-M4."""
    from edgeq.errors import EdgeqError
    from edgeq.profiling import profile

    try:
        result = profile(path, "qemu-m4", runs=1, warmup=0)
    except EdgeqError as exc:
        return {"error": str(exc)}
    t = result.timing
    ops = t.ops or ()
    by_op: dict[str, int] = {}
    for o in ops:
        by_op[o.name] = by_op.get(o.name, 0) + (o.instructions or 0)
    return {
        "instructions": sum(o.instructions or 0 for o in ops) or t.instructions,
        "cycles": None if t.cycles is None else t.cycles.value,
        "cycles_source": None if t.cycles is None else t.cycles.source,
        "firmware_flash_bytes": t.memory.flash_bytes,
        "firmware_ram_bytes": t.memory.ram_bytes,
        "instructions_by_op": by_op,
    }


# ---------------------------------------------------------------------------
# Part 1: MobileNetV2


def mobilenet_v2() -> tuple[Any, np.ndarray]:
    """The seeded Keras MobileNetV2 1.0 (224x224x3, 1000 classes) and 48 synthetic images in [-1, 1]."""
    import keras
    import tensorflow as tf

    keras.backend.clear_session()
    keras.utils.set_random_seed(MNV2_SEED)  # Python, NumPy and the backend's seeds
    random.seed(MNV2_SEED)
    np.random.seed(MNV2_SEED)
    model = keras.applications.MobileNetV2(alpha=1.0, weights=None, input_shape=(224, 224, 3), classes=1000)
    rng = np.random.default_rng(MNV2_SEED)
    coarse = rng.uniform(-1.0, 1.0, (MNV2_IMAGES, 7, 7, 3)).astype(np.float32)
    images = tf.image.resize(coarse, (224, 224), method="bicubic").numpy()
    images = np.clip(images + rng.normal(0.0, 0.05, images.shape), -1.0, 1.0).astype(np.float32)
    bn = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in bn:
        layer.momentum = 0.0  # one training-mode pass stores this batch's statistics as the moving ones
    model(images[:MNV2_CALIBRATION], training=True)
    for layer in bn:
        layer.momentum = 0.99
    return model, images


def bench_mobilenet(work: Path) -> dict[str, Any]:
    """Float / edgeq int8 / int4 .tflite sizes of MobileNetV2, the int4 file's breakdown, engine constants."""
    import tensorflow as tf

    import edgeq
    from edgeq.errors import EdgeqError

    say("mobilenet_v2: building the Keras model")
    model, images = mobilenet_v2()
    float_model = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    (work / "mnv2_float.tflite").write_bytes(float_model)
    options = {"samples": MNV2_CALIBRATION, "seed": 0, "check_samples": MNV2_IMAGES - MNV2_CALIBRATION}
    reports, files = {}, {}
    for kind, weights in (("int8", "int8"), ("int4", "int4")):
        say(f"mobilenet_v2: edgeq.convert --weights {weights}")
        started = time.perf_counter()
        path = work / f"mnv2_{kind}.tflite"
        try:
            report = edgeq.convert(model, images, path, weights=weights, **options)
        except EdgeqError as exc:
            reports[kind] = {"seconds": round(time.perf_counter() - started, 1), "error": str(exc)}
            say(f"mobilenet_v2: --weights {weights} failed: {exc}")
            continue
        reports[kind] = {"seconds": round(time.perf_counter() - started, 1), "fidelity": report.fidelity}
        if report.weights:
            reports[kind]["int4_layers"] = report.weights["int4_layers"]
            reports[kind]["weight_layers"] = len(report.weights["layers"])
            reports[kind]["weight_bytes"] = report.weights["weight_bytes"]
        files[kind] = path.read_bytes()
    if "int4" not in files:  # what the quantizer itself wrote, before edgeq's post-processing
        say("mobilenet_v2: the AI Edge Quantizer's own int4 output")
        files["int4"] = quantizer_output(model, images)
        reports["int4"].update(int4_layers=None, weight_layers=None)
    sizes = {"float": len(float_model), **{k: len(v) for k, v in files.items()}}
    say("mobilenet_v2: engine constants")
    converted = "error" not in reports["int4"]
    return {
        "params": int(model.count_params()),
        "images": MNV2_IMAGES,
        "calibration_samples": MNV2_CALIBRATION,
        "sizes": sizes,
        "ratios": {"int8": sizes["int8"] / sizes["float"], "int4": sizes["int4"] / sizes["float"]},
        "breakdown": {k: tflite_breakdown(v) for k, v in (("float", float_model), *files.items())},
        "conversions": reports,
        "engine": {k: engine_constants(v, f"mnv2_{k}.tflite") for k, v in files.items()},
        "goal_ratio": GOAL_MNV2_RATIO,
        "goal_met": converted and sizes["int4"] / sizes["float"] <= GOAL_MNV2_RATIO,
        "int4_from": "edgeq.convert" if converted else "AI Edge Quantizer output (edgeq.convert failed)",
    }


def quantizer_output(model: Any, images: np.ndarray) -> bytes:
    """The AI Edge Quantizer's all-int4 model of the same calibration draw, as it wrote it."""
    from edgeq.convert.int4 import Int4Quantizer, batch1_float_model, recipe
    from edgeq.convert.loader import load_model
    from edgeq.data import load_dataset
    from edgeq.log import quiet
    from edgeq.tfimport import import_tf

    loaded = load_model(model)
    dataset = load_dataset(images, loaded.inputs, samples=MNV2_CALIBRATION, seed=0)
    quantizer = Int4Quantizer(batch1_float_model(import_tf(), loaded), dataset, loaded.layer_names)
    with quiet():
        return bytes(quantizer._new(recipe(quantizer.layers)).quantize(quantizer.calibration).quantized_model)


# ---------------------------------------------------------------------------
# Part 2: the zoo


def zoo_data(name: str) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(calibration pool, (eval x, eval y)) as scripts/build_zoo.py and bench_quant_mixed.py draw them."""
    import bench_quant_mixed

    return bench_quant_mixed.zoo_data(name)


def reconstruction_auc(outputs: np.ndarray, labels: np.ndarray | None, inputs: dict[str, np.ndarray]) -> float:
    """AUC of the autoencoder's reconstruction error as an anomaly score (bench_quant_mixed's)."""
    import bench_quant_mixed

    return bench_quant_mixed.reconstruction_auc(outputs, labels, inputs)


def object_iou(outputs: np.ndarray, labels: np.ndarray | None, inputs: dict[str, np.ndarray]) -> float:
    """IoU of the predicted and true object pixels (scripts/build_zoo.py's segmenter metric)."""
    predicted = outputs.argmax(axis=-1)
    both, either = np.sum((predicted == 1) & (labels == 1)), np.sum((predicted == 1) | (labels == 1))
    return float(both / max(either, 1))


def metric_for(name: str) -> Any:
    from edgeq.quant.mixed import top1_accuracy

    return {"ad_autoencoder": reconstruction_auc, "seg_unet": object_iou}.get(name, top1_accuracy)


def keras_path(name: str) -> Path:
    folder = ZOO_DIR / name
    return folder / "model.keras" if (folder / "model.keras").exists() else folder / "model.h5"


def aeq_models(path: Path, calib: np.ndarray, chosen: set[str]) -> dict[str, bytes]:
    """The AI Edge Quantizer's all-int8, all-int4 and ``chosen``-int4 models of one calibration.

    mixed_bits calibrates the same batch-1 float model on the same draw; its
    models are rebuilt here from the result's per-layer bits (and compared
    byte for byte with the one it wrote).
    """
    from edgeq.convert.int4 import Int4Quantizer, batch1_float_model
    from edgeq.convert.loader import load_model
    from edgeq.data import load_dataset
    from edgeq.tfimport import import_tf

    loaded = load_model(str(path))
    dataset = load_dataset(calib, loaded.inputs, samples=CALIBRATION_SAMPLES, seed=SEED)
    quantizer = Int4Quantizer(batch1_float_model(import_tf(), loaded), dataset, loaded.layer_names)
    everything = {layer.output for layer in quantizer.layers}
    return {
        "float_b1": quantizer.float_model,
        "aeq_int8": quantizer.quantize(set()),
        "int4": quantizer.quantize(everything),
        "mixed": quantizer.quantize(chosen),
    }


def score_of(path: Path, model: bytes, evaluation: tuple[np.ndarray, np.ndarray], metric: Any) -> float:
    from edgeq.convert.loader import load_model
    from edgeq.quant.mixed import scorer

    return scorer(load_model(str(path)).inputs, evaluation, metric, None, 1.0 / 255.0, 0.0).of(model)


def bench_zoo_model(name: str, work: Path) -> dict[str, Any]:
    """Every figure of one zoo model; an ``error`` field where the int4 path cannot convert it."""
    import edgeq
    from edgeq.errors import EdgeqError
    from edgeq.quant.mixed_bits import mixed_bits

    path, (calib, evaluation), metric = keras_path(name), zoo_data(name), metric_for(name)
    row: dict[str, Any] = {"model": str(path.relative_to(ROOT)), "metric": getattr(metric, "__name__", "metric")}
    say(f"{name}: edgeq int8")
    int8_path = work / f"{name}_int8.tflite"
    edgeq.convert(str(path), calib, int8_path, samples=CALIBRATION_SAMPLES, seed=SEED)
    models = {"int8": int8_path.read_bytes()}
    row["int8_score"] = score_of(path, models["int8"], evaluation, metric)
    say(f"{name}: mixed int4/int8 search, budget {BUDGET} point(s)")
    mixed_path = work / f"{name}_mixed.tflite"
    try:
        result = mixed_bits(
            str(path),
            calib,
            evaluation,
            BUDGET,
            output=mixed_path,
            samples=CALIBRATION_SAMPLES,
            seed=SEED,
            metric=metric,
        )
    except EdgeqError as exc:
        row["error"] = str(exc)
        row.update(tflite={"int8": len(models["int8"])}, engine={"int8": engine_constants(models["int8"], name)})
        row["m4"] = {"int8": m4_profile(int8_path)}
        return row
    search = result.to_dict()
    row["search"] = {k: v for k, v in search.items() if k not in ("model", "output")}
    chosen = {layer.output for layer in result.layers if layer.bits == 4}
    models.update(aeq_models(path, calib, chosen))
    row["mixed_reproduced"] = models["mixed"] == mixed_path.read_bytes()
    return finish_zoo_row(name, row, models, work)


def finish_zoo_row(name: str, row: dict[str, Any], models: dict[str, bytes], work: Path) -> dict[str, Any]:
    """Sizes, breakdowns, engine constants and Cortex-M4 profiles of every variant of one zoo model."""
    variants = ("int8", "aeq_int8", "int4", "mixed")
    row["tflite"] = {k: len(models[k]) for k in ("float_b1", *variants)}
    row["tflite"]["float"] = (ZOO_DIR / name / "float.tflite").stat().st_size
    row["breakdown"] = {k: tflite_breakdown(models[k]) for k in variants}
    say(f"{name}: engine constants")
    row["engine"] = {k: engine_constants(models[k], f"{name}_{k}.tflite") for k in variants}
    profiles: dict[str, dict[str, Any]] = {}
    seen: dict[str, str] = {}
    for k in variants:
        digest = hashlib.sha256(models[k]).hexdigest()
        if digest in seen:  # the same bytes (all layers int4 chosen): profiled once
            profiles[k] = {**profiles[seen[digest]], "same_model_as": seen[digest]}
            continue
        seen[digest] = k
        path = work / f"{name}_{k}.tflite"
        path.write_bytes(models[k])
        say(f"{name}: Cortex-M4 profile of {k} (qemu-m4)")
        profiles[k] = m4_profile(path)
    row["m4"] = profiles
    row["derived"] = derived(row)
    return row


def derived(row: dict[str, Any]) -> dict[str, Any]:
    """Ratios, drops and what-if figures computed from the measured ones."""
    e, s = row["engine"], row["search"]
    base = e["int8"]["total"]
    out: dict[str, Any] = {
        "engine_ratio": {k: e[k]["total"] / base for k in ("aeq_int8", "int4", "mixed")},
        "drop_vs_int8": {k: 100.0 * (s["int8_score"] - s[f"{k}_score"]) for k in ("int4",)},
        "drop_vs_float": {},
    }
    out["drop_vs_int8"]["mixed"] = s["drop_points"]
    out["drop_vs_edgeq_int8"] = {k: 100.0 * (row["int8_score"] - s[f"{k}_score"]) for k in ("int4",)}
    out["drop_vs_edgeq_int8"]["mixed"] = 100.0 * (row["int8_score"] - s["score"])
    scores = {"int8": row["int8_score"], "aeq_int8": s["int8_score"], "int4": s["int4_score"], "mixed": s["score"]}
    out["drop_vs_float"] = {k: 100.0 * (s["float_score"] - v) for k, v in scores.items()}
    tables = {k: e[k]["biases"] + e[k]["requant"] for k in ("int8", "mixed")}
    out["mixed_table_share"] = tables["mixed"] / e["mixed"]["total"]
    out["mixed_weight_ratio"] = e["mixed"]["weights"] / e["int8"]["weights"]
    tight = {k: e[k]["total"] - tables[k] + TIGHT_ROW * e[k]["channels"] for k in ("int8", "mixed")}
    out["what_if_tight_rows"] = {
        "mixed_only": tight["mixed"] / base,
        "both": tight["mixed"] / tight["int8"],
    }
    worst = max(out["drop_vs_int8"]["mixed"], out["drop_vs_edgeq_int8"]["mixed"])
    out["goal_met"] = out["engine_ratio"]["mixed"] <= GOAL_MIXED_RATIO and worst <= BUDGET + 1e-9
    m4 = row["m4"]
    if all("instructions" in m4[k] for k in ("aeq_int8", "int8", "mixed", "int4")):
        ref = m4["aeq_int8"]["instructions"]
        out["m4_instructions_vs_aeq_int8"] = {k: m4[k]["instructions"] / ref - 1.0 for k in ("int8", "int4", "mixed")}
    return out


# ---------------------------------------------------------------------------
# Running, recording


def machine() -> dict[str, Any]:
    from importlib import metadata

    versions = {}
    for package in ("tensorflow", "keras", "ai-edge-litert", "ai-edge-quantizer"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def run(only: str | None, work: Path) -> dict[str, Any]:
    """Both parts (or ``only`` one model); each model's failure is recorded, not raised."""
    results: dict[str, Any] = {
        **machine(),
        "budget_points": BUDGET,
        "seed": SEED,
        "calibration_samples": CALIBRATION_SAMPLES,
        "goals": {"mobilenet_v2_int4_over_float": GOAL_MNV2_RATIO, "engine_mixed_over_int8": GOAL_MIXED_RATIO},
        "zoo": {},
    }
    if only in (None, "mobilenet_v2"):
        started = time.perf_counter()
        results["mobilenet_v2"] = bench_mobilenet(work)
        results["mobilenet_v2"]["wall_seconds"] = round(time.perf_counter() - started, 1)
    for name in [n for n in ZOO if only in (None, n)]:
        started = time.perf_counter()
        results["zoo"][name] = bench_zoo_model(name, work)
        results["zoo"][name]["wall_seconds"] = round(time.perf_counter() - started, 1)
        say(f"{name}: done in {results['zoo'][name]['wall_seconds']} s")
    return results


def main(argv: list[str] | None = None) -> int:
    from edgeq.tempdirs import process_tempdir

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="one zoo model name, or mobilenet_v2")
    parser.add_argument("--render", action="store_true", help="only rewrite the .md from the recorded .json")
    args = parser.parse_args(argv)
    if args.render:
        OUT_MD.write_text(markdown(json.loads(OUT_JSON.read_text())))
        return 0
    started = time.perf_counter()
    with process_tempdir(), tempfile.TemporaryDirectory(prefix="bench-int4-") as work:
        results = run(args.only, Path(work))
    results["seconds"] = round(time.perf_counter() - started, 1)
    if args.only is None:  # paths relative to the project, so the record does not depend on the checkout
        OUT_JSON.write_text(json.dumps(results, indent=2, default=str).replace(f"{ROOT}/", "") + "\n")
        OUT_MD.write_text(markdown(results))
    else:
        print(json.dumps(results, indent=2, default=str))
    return 0


# ---------------------------------------------------------------------------
# The Markdown record


def markdown(results: dict[str, Any]) -> str:
    """docs/benchmarks-int4.md from the recorded results."""
    v = results["versions"]
    lines = [
        "# int4 weights: file sizes, engine constants, accuracy and Cortex-M4 cost",
        "",
        f"`scripts/bench_int4.py`, {results['date']}, {results['machine']} ({results['cpus']} CPUs), "
        f"TensorFlow {v['tensorflow']}, Keras {v['keras']}, ai-edge-litert {v['ai-edge-litert']}, "
        f"AI Edge Quantizer {v['ai-edge-quantizer']}; one run of {results['seconds']:.0f} s.",
        "",
        *goals_section(results),
        *mobilenet_section(results.get("mobilenet_v2")),
        *zoo_sections(results),
        *method_section(results),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def goals_section(results: dict[str, Any]) -> list[str]:
    lines = [
        "## Goals",
        "",
        "A mixed model meets its goal when its engine constants are at most 0.55x the int8 engine's and it "
        "scores at most 1 point below both int8 models: the AI Edge Quantizer's (the search's own budget "
        'reference, "AEQ int8") and `edgeq convert`\'s (what it replaces, "int8"). Sections below explain each row.',
        "",
        "| goal | measured | result |",
        "| --- | --- | --- |",
    ]
    mn = results.get("mobilenet_v2")
    if mn and "error" in mn["conversions"]["int4"]:
        lines.append(
            f"| MobileNetV2 1.0 int4 .tflite <= {GOAL_MNV2_RATIO} x float | `edgeq convert --weights int4` fails "
            f"(below); the quantizer's own output is {mn['ratios']['int4']:.4f} | **not met** |"
        )
    elif mn:
        lines.append(
            f"| MobileNetV2 1.0 int4 .tflite <= {GOAL_MNV2_RATIO} x float | "
            f"{mn['sizes']['int4']:,} / {mn['sizes']['float']:,} B = {mn['ratios']['int4']:.4f} | {_met(mn['goal_met'])} |"
        )
    for name, row in results["zoo"].items():
        if "error" in row:
            lines.append(f"| {name}: mixed engine constants <= {GOAL_MIXED_RATIO} x int8 | not converted (below) | - |")
            continue
        d, e = row["derived"], row["engine"]
        lines.append(
            f"| {name}: mixed engine constants <= {GOAL_MIXED_RATIO} x int8 at <= {BUDGET:g} point drop | "
            f"{e['mixed']['total']:,} / {e['int8']['total']:,} B = {d['engine_ratio']['mixed']:.3f}x; drop "
            f"{d['drop_vs_int8']['mixed']:+.2f} points vs AEQ int8, {d['drop_vs_edgeq_int8']['mixed']:+.2f} vs int8 "
            f"| {_met(d['goal_met'])} |"
        )
    return [*lines, ""]


def zoo_sections(results: dict[str, Any]) -> list[str]:
    rows = {n: r for n, r in results["zoo"].items() if "error" not in r}
    lines = [
        "## The zoo: int8, all-int4 and mixed int4/int8 under a 1-point budget",
        "",
        "Data as in docs/benchmarks-quant-mixed.md: calibration on 200 samples of the training draw (seed "
        f"{results['seed']}), evaluation on the held-out test draw. Variants: **int8** is `edgeq.convert`'s int8 "
        "model (TensorFlow's converter, what a plain `edgeq convert` writes); **AEQ int8** is the AI Edge "
        "Quantizer's all-int8 model of the same calibration as int4 and mixed (the budget's reference: mixed "
        "must stay within 1 point of it); **int4** has every conv/depthwise/dense layer int4; **mixed** is "
        "`mixed_bits(..., budget_points=1.0)`'s choice. The quantizer's models are calibrated as `edgeq convert "
        "--weights int4` calibrates them: each tensor's min/max over all samples, as TensorFlow's converter keeps "
        "them.",
        "",
        "### .tflite bytes (measured)",
        "",
        "| model | float | int8 | AEQ int8 | int4 | mixed | mixed / int8 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in rows.items():
        t = r["tflite"]
        cells = [t[k] for k in ("float", "int8", "aeq_int8", "int4", "mixed")]
        lines.append(f"| {name} | " + " | ".join(f"{c:,}" for c in cells) + f" | {t['mixed'] / t['int8']:.3f} |")
    lines += ["", *engine_table(rows), *accuracy_table(rows), *kept_table(rows), *m4_table(rows)]
    lines += [*not_converted(results["zoo"]), *mixed_analysis(rows)]
    return lines


def engine_table(rows: dict[str, Any]) -> list[str]:
    lines = [
        "### The compiled engine's constants (measured: `build_engine(...).constants`, as `edgeq generate --format "
        "engine --json` reports them)",
        "",
        "Weights in the kernels' layouts (int8 depthwise weights are stored as int16, so int4 is a quarter of "
        "them), biases and requantization data per output channel (int8 ops: 16-byte rows of int32 bias, "
        "multiplier, shift and rounding constant; int4 ops: compact rows of int32 bias and multiplier and an int8 "
        "shift, expanded in the op's scratch at run time, edgeq/codegen/engine/int4.py), and other tables. B/ch "
        "is bytes of per-channel parameters (biases + requant) per output channel, int8 / mixed.",
        "",
        "| model | int8 w / b / rq / other B | int8 total | AEQ int8 total | int4 w / total | mixed w / total "
        "| int4 / int8 | mixed / int8 | B/ch | goal |",
        "| --- | --- | ---: | ---: | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for name, r in rows.items():
        e, d = r["engine"], r["derived"]
        i8 = e["int8"]
        lines.append(
            f"| {name} | {i8['weights']:,} / {i8['biases']:,} / {i8['requant']:,} / {i8['other']:,} | "
            f"{i8['total']:,} | {e['aeq_int8']['total']:,} | {e['int4']['weights']:,} / {e['int4']['total']:,} | "
            f"{e['mixed']['weights']:,} / {e['mixed']['total']:,} | {d['engine_ratio']['int4']:.3f} | "
            f"{d['engine_ratio']['mixed']:.3f} | {i8['per_channel']:.1f} / {e['mixed']['per_channel']:.1f} | "
            f"{'met' if d['goal_met'] else 'not met'} |"
        )
    return [*lines, ""]


def accuracy_table(rows: dict[str, Any]) -> list[str]:
    lines = [
        "### Accuracy (measured on LiteRT, held-out test draw)",
        "",
        "Scores in %; the metric is top-1 accuracy, the autoencoder's reconstruction-error AUC, the segmenter's "
        "object IoU. Drops in points vs AEQ int8 (the budget's reference), vs int8 (`edgeq convert`'s) and vs float.",
        "",
        "| model | metric | samples | float | int8 | AEQ int8 | int4 | mixed | int4 drop vs AEQ int8 / int8 / float "
        "| mixed drop vs AEQ int8 / int8 / float |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in rows.items():
        s, d = r["search"], r["derived"]
        scores = [s["float_score"], r["int8_score"], s["int8_score"], s["int4_score"], s["score"]]
        lines.append(
            f"| {name} | {r['metric']} | {s['eval_samples']} | "
            + " | ".join(f"{100 * x:.2f}" for x in scores)
            + " | "
            + " | ".join(
                f"{d['drop_vs_int8'][k]:+.2f} / {d['drop_vs_edgeq_int8'][k]:+.2f} / {d['drop_vs_float'][k]:+.2f}"
                for k in ("int4", "mixed")
            )
            + " |"
        )
    return [*lines, ""]


def kept_table(rows: dict[str, Any]) -> list[str]:
    lines = [
        "### What the mixed choice keeps int8",
        "",
        "| model | int4 layers | kept int8 (layer, op, sensitivity) | trials |",
        "| --- | ---: | --- | ---: |",
    ]
    for name, r in rows.items():
        s = r["search"]
        kept = [
            f"{layer['layer'] or layer['output']} ({layer['op']}, {layer['sensitivity']:.3g})"
            for layer in s["layers"]
            if layer["bits"] == 8
        ]
        lines.append(
            f"| {name} | {s['int4_layers']} of {len(s['layers'])} | {', '.join(kept) or 'none'} | {s['trials']} |"
        )
    return [*lines, ""]


def m4_table(rows: dict[str, Any]) -> list[str]:
    lines = [
        "### Cortex-M4 cost (edgeq profile --target qemu-m4: instructions counted, cycles estimated)",
        "",
        "Instructions per inference are counted by edgeq's QEMU plugin on the emulated mps2-an386 (exact and "
        "deterministic); cycles are edgeq's estimate from those instructions and edgeq/boards/cores/cortex-m4.yaml "
        "(zero wait states), not a measurement on silicon. +% is against AEQ int8, the model that differs from "
        "int4 and mixed only in the weights' bits.",
        "",
        "| model | int8 instr. | AEQ int8 instr. | int4 instr. (+%) | mixed instr. (+%) | AEQ int8 est. cycles "
        "| mixed est. cycles | FULLY_CONNECTED instr. AEQ int8 -> int4 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, r in rows.items():
        m, d = r["m4"], r["derived"].get("m4_instructions_vs_aeq_int8")
        if d is None:
            lines.append(
                f"| {name} | " + " | ".join(m[k].get("error", "-") for k in ("int8", "aeq_int8")) + " | | | | | |"
            )
            continue
        fc = [m[k]["instructions_by_op"].get("FULLY_CONNECTED", 0) for k in ("aeq_int8", "int4")]
        lines.append(
            f"| {name} | {m['int8']['instructions']:,} | {m['aeq_int8']['instructions']:,} | "
            f"{m['int4']['instructions']:,} ({100 * d['int4']:+.1f} %) | {m['mixed']['instructions']:,} "
            f"({100 * d['mixed']:+.1f} %) | {m['aeq_int8']['cycles']:,.0f} | {m['mixed']['cycles']:,.0f} | "
            f"{fc[0]:,} -> {fc[1]:,} |"
        )
    return [*lines, ""]


def not_converted(zoo_rows: dict[str, Any]) -> list[str]:
    lines = []
    for name, r in zoo_rows.items():
        if "error" not in r:
            continue
        e = r["engine"]["int8"]
        text = (
            f'`mixed_bits` fails, so neither all-int4 nor mixed is made: "{r["error"]}". edgeq\'s int8 model of it: '
            f"{r['tflite']['int8']:,} B, engine constants {e.get('total', 0):,} B (weights {e.get('weights', 0):,}, "
            f"other {e.get('other', 0):,})."
        )
        if "LSTM" in r["error"]:
            text += (
                " The AI Edge Quantizer leaves the UNIDIRECTIONAL_SEQUENCE_LSTM float. Its weights are the engine's "
                "other constants (the LSTM's own tables, not conv/depthwise/dense weights); the only int4-capable "
                "layer is the dense head (24 x 6 weights), so int4 could save at most 72 bytes even if the LSTM "
                "converted."
            )
        lines += [f"### {name}: no int4 model", "", text, ""]
    return lines


def mixed_analysis(rows: dict[str, Any]) -> list[str]:
    lines = ["## What limits each mixed model, and what would lower it", ""]
    for name, r in rows.items():
        lines += [f"- **{name}**: {_model_analysis(r).strip()}"]
    lines += ["", *latency_analysis(rows)]
    return lines


def _model_analysis(r: dict[str, Any]) -> str:
    e, d, s = r["engine"], r["derived"], r["search"]
    i8, mx = e["int8"], e["mixed"]
    tables, tables8 = mx["biases"] + mx["requant"], i8["biases"] + i8["requant"]
    kept = [layer for layer in s["layers"] if layer["bits"] == 8]
    kept_bytes = sum(int(np.prod(layer["shape"])) for layer in kept)
    shrink = "do not shrink" if tables >= tables8 else f"shrink only from {tables8:,} B"
    text = (
        f"mixed/int8 {d['engine_ratio']['mixed']:.3f}x ({_met(d['goal_met'])}). Its weights are "
        f"{d['mixed_weight_ratio']:.3f}x the int8 engine's, but the per-channel tables ({mx['channels']:,} channels, "
        f"{mx['per_channel']:.1f} B each on average, {tables:,} B) {shrink} and are "
        f"{_pct(d['mixed_table_share'])} of the mixed constants"
    )
    if mx["other"]:
        text += f", and other tables (lookup/resize) add {mx['other']:,} B ({_pct(mx['other'] / mx['total'])})"
    text += ". "
    drops = d["drop_vs_int8"]["mixed"], d["drop_vs_edgeq_int8"]["mixed"]
    if max(drops) > BUDGET + 1e-9:
        lead = "The size is within the goal, but" if d["engine_ratio"]["mixed"] <= GOAL_MIXED_RATIO else "And"
        text += (
            f"{lead} the mixed model drops {drops[0]:+.2f} points against AEQ int8 (the search's budget reference) "
            f"and {drops[1]:+.2f} against `edgeq convert`'s int8, where the goal allows {BUDGET:g}. "
        )
    if kept:
        text += (
            f"The search keeps {len(kept)} layer(s) int8 ({kept_bytes:,} weight values) because all-int4 drops "
            f"{d['drop_vs_int8']['int4']:+.2f} points against AEQ int8; all-int4 would be "
            f"{d['engine_ratio']['int4']:.3f}x. Lowering the ratio needs int4 weights that lose less on these "
            "layers. "
        )
    else:
        text += "Every layer is int4 already. "
    w = d["what_if_tight_rows"]
    if mx["per_channel"] > TIGHT_ROW + 0.5:
        text += (
            f"Its int4 ops already keep {TIGHT_ROW}-byte channel rows; with the same rows on its int8 ops "
            f"(computed, not built) the mixed model would be {w['mixed_only']:.3f}x the int8 engine as it is, or "
            f"{w['both']:.3f}x an int8 engine with the same rows."
        )
    return text


def latency_analysis(rows: dict[str, Any]) -> list[str]:
    lines = [
        "### The latency cost",
        "",
        "The engine unpacks int4 weights before each op runs (docs/engine-int4.md): a convolution reuses every "
        "weight at every output pixel, so the unpack nearly disappears in its cost, while a FULLY_CONNECTED reads "
        "each weight once, so unpacking adds a large part of its cost (the last column of the table above). The unpacked weights and expanded channel rows can also enlarge "
        "the arena, and the "
        "balanced schedule (kernel variants chosen within a cap that grows with the arena) can then pick "
        "different conv variants, faster or slower. Per model, mixed vs AEQ int8, the two op types that changed "
        "most and the ops whose kernel variant changed:",
        "",
    ]
    for name, r in rows.items():
        d = r["derived"].get("m4_instructions_vs_aeq_int8")
        if d is None:
            continue
        m, e = r["m4"], r["engine"]
        by8, by4 = m["aeq_int8"]["instructions_by_op"], m["mixed"]["instructions_by_op"]
        delta = {op: by4.get(op, 0) - by8.get(op, 0) for op in set(by8) | set(by4)}
        top = sorted(delta.items(), key=lambda kv: -abs(kv[1]))[:2]
        parts = ", ".join(f"{op} {v:+,}" for op, v in top if v) or "no change"
        v8, v4 = e["aeq_int8"].get("variants", {}), e["mixed"].get("variants", {})
        changed = [f"op {k} {v8.get(k)} -> {v4.get(k)}" for k in v4 if v8.get(k) != v4.get(k)]
        arena = (
            f"arena {e['aeq_int8']['arena_bytes']:,} -> {e['mixed']['arena_bytes']:,} B "
            f"(`--optimize ram`: {e['aeq_int8']['arena_bytes_optimize_ram']:,} -> "
            f"{e['mixed']['arena_bytes_optimize_ram']:,} B)"
        )
        lines.append(
            f"- {name}: {100 * d['mixed']:+.1f} % instructions ({parts}); {arena}; "
            f"variants changed: {', '.join(changed) or 'none'}."
        )
    grown = {n: r["engine"]["mixed"] for n, r in rows.items() if _ram_heavy(r["engine"]["mixed"])}
    for name, e in grown.items():
        lines += [
            "",
            f"{name}'s default (balanced) schedule unpacks whole weight arrays of some int4 layers into the arena "
            f"(its variants: {_variant_counts(e)}), {e['arena_bytes']:,} B against {e['arena_bytes_optimize_ram']:,} B with "
            "`--optimize ram`, whose `rows` variant unpacks two rows at a time (docs/engine-int4.md); the instructions of that smaller schedule are "
            "not measured here (`edgeq profile` builds the default one).",
        ]
    return [*lines, ""]


def _variant_counts(e: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for variant in e.get("variants", {}).values():
        counts[variant] = counts.get(variant, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))


def _ram_heavy(e: dict[str, Any]) -> bool:
    return e["arena_bytes"] > 4 * e["arena_bytes_optimize_ram"]


def _half_check(name: str, r: dict[str, Any]) -> str:
    w4, w8 = r["breakdown"]["int4"]["weights_int4"], r["breakdown"]["aeq_int8"]["weights_int8"]
    return f"{name} {w4:,} vs {w8 / 2:,.1f}"


def method_section(results: dict[str, Any]) -> list[str]:
    return [
        "## How each number was obtained",
        "",
        "- **Measured**: every file size (bytes of the written .tflite), the breakdown of those bytes (read back "
        "with `edgeq.model`), every engine constant (`edgeq.codegen.engine.build.build_engine(...).constants`, "
        "the figures `edgeq generate --format engine --json` reports) and arena (the default balanced schedule, "
        "and `optimize='ram'`), every accuracy (LiteRT on the held-out "
        "test draw), every instruction count (edgeq's QEMU plugin on the emulated Cortex-M4, one inference of a "
        "seeded random input; the count does not depend on the values).",
        "- **Estimated**: Cortex-M4 cycles (instructions costed with edgeq/boards/cores/cortex-m4.yaml, zero wait "
        "states: see docs/cycles.md). No real board was run.",
        "- **Computed, not built**: the what-if figures (empty zero points in MobileNetV2's file, "
        f"{TIGHT_ROW}-byte channel rows on the engine's int8 ops) are arithmetic on the measured parts.",
        "- The mixed model the script rebuilds from the search's per-layer bits is compared byte for byte with "
        "the one `mixed_bits` wrote: "
        + ", ".join(
            f"{n} {'identical' if r.get('mixed_reproduced') else 'DIFFERENT'}"
            for n, r in results["zoo"].items()
            if "search" in r
        )
        + ".",
        "- Check: int4 weight bytes in the .tflite against half the AEQ int8 model's: "
        + ", ".join(_half_check(n, r) for n, r in results["zoo"].items() if "search" in r)
        + " (an odd count rounds up: a layer's int4 bytes are ceil(n / 2)). In the engine, int4 conv and dense "
        "arrays are half the int8 ones up to padding (dense rows padded to whole words, the bytes kernels may "
        "read past the end); int8 depthwise weights are stored as int16, so there int4 is a quarter "
        "(docs/engine-int4.md).",
        f"- MobileNetV2 uses {MNV2_CALIBRATION} calibration images (a smaller set than the zoo's 200, to keep the run "
        "short); file sizes do not depend on the calibration. It is not run on the emulated board.",
        "- Ratios '/ int8' use `edgeq.convert`'s int8 model (what a plain `edgeq convert` writes). Its engine "
        "constants against the AEQ int8 model's: "
        + ", ".join(
            f"{n} {r['engine']['int8']['total']:,} / {r['engine']['aeq_int8']['total']:,} B"
            for n, r in results["zoo"].items()
            if "search" in r
        )
        + ".",
        "",
    ]


def mobilenet_section(mn: dict[str, Any] | None) -> list[str]:
    if not mn:
        return []
    failure = mn["conversions"]["int4"].get("error")
    s, b = mn["sizes"], mn["breakdown"]
    conv = mn["conversions"]
    lines = [
        "## MobileNetV2 1.0, 224x224x3, 1000 classes",
        "",
        f"Keras `MobileNetV2(alpha=1.0, weights=None)`, {mn['params']:,} parameters, seeded random weights; "
        f"{mn['images']} seeded synthetic images in [-1, 1], {mn['calibration_samples']} for calibration (both "
        "conversions draw the same ones) and the rest held out for the fidelity check. Float: plain "
        "`TFLiteConverter`; int8: `edgeq.convert` (TensorFlow's converter, per-channel int8 weights); int4: "
        f"`edgeq.convert(..., weights='int4')`{_int4_layers(conv['int4'])}. Sizes are measured (file bytes).",
        "",
        *_failure_note(conv["int4"]),
        "| model | bytes | / float |",
        "| --- | ---: | ---: |",
        f"| float | {s['float']:,} | 1.000 |",
        f"| int8 (edgeq.convert) | {s['int8']:,} | {mn['ratios']['int8']:.4f} |",
        f"| int4 ({'the quantizer' + chr(39) + 's own output' if failure else 'edgeq.convert --weights int4'}) | "
        f"{s['int4']:,} | {mn['ratios']['int4']:.4f} |",
        "",
        "Where the bytes go (read from each file with `edgeq.model`; a quantized tensor stores a float32 scale and "
        "an int64 zero point per channel, 12 bytes, for weights and biases alike):",
        "",
        "| part | float | int8 | int4 | int4 share |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    parts = (
        ("conv/depthwise/dense weights", ("weights_float32", "weights_int8", "weights_int4")),
        ("int32 biases", ("biases",)),
        ("per-channel scales + zero points", ("qparams_per_channel",)),
        ("per-tensor scales + zero points", ("qparams_per_tensor",)),
        ("other constants", ("other_constants",)),
        ("tensor names", ("names",)),
        ("flatbuffer structure, shapes, options, metadata", ("structure",)),
    )
    for label, keys in parts:
        cells = [sum(b[k].get(key, 0) for key in keys) for k in ("float", "int8", "int4")]
        lines.append(f"| {label} | " + " | ".join(f"{c:,}" for c in cells) + f" | {_pct(cells[2] / s['int4'])} |")
    lines += ["", *mobilenet_analysis(mn), *mobilenet_engine(mn), ""]
    return lines


def _int4_layers(conv: dict[str, Any]) -> str:
    if conv.get("int4_layers") is None:
        return ""
    return f" ({conv['int4_layers']} of {conv['weight_layers']} conv/depthwise/dense layers int4)"


def _failure_note(conv: dict[str, Any]) -> list[str]:
    """Why the int4 conversion failed, when it did, and what the figures below are instead."""
    failure = conv.get("error")
    if not failure:
        return []
    return [
        f'**`edgeq.convert(..., weights="int4")` fails on this model**: "{failure}".',
        "",
        "The int4 figures below are the AI Edge Quantizer's own output for the same calibration images, before "
        "edgeq's checks and post-processing (`Int4Quantizer` with every layer int4; measured).",
        "",
    ]


def mobilenet_analysis(mn: dict[str, Any]) -> list[str]:
    s, b4 = mn["sizes"], mn["breakdown"]["int4"]
    target = int(GOAL_MNV2_RATIO * s["float"])
    fixed = b4["biases"] + b4["qparams_per_channel"]
    over = s["int4"] - target
    bias_q = (
        f"with their own quantization parameters (12 B each, {b4['qparams_bias']:,} B in all)"
        if b4["qparams_bias"]
        else "without quantization parameters of their own (edgeq removes them; the spec derives them)"
    )
    return [
        f"Why the goal is {'met' if mn['goal_met'] else 'not met'}: the int4 weights alone are "
        f"{b4['weights_int4']:,} bytes, {b4['weights_int4'] / s['float']:.4f} of the float file, exactly half of the "
        f"int8 file's {mn['breakdown']['int8']['weights_int8']:,}. What does not shrink with the weights is the "
        f"per-channel data: {b4['weight_channels']:,} weight channels, each with a scale and a zero point (12 B), "
        f"and {b4['bias_values']:,} int32 biases (the 1000-class FULLY_CONNECTED has no bias input in the converted "
        f"graph) {bias_q}: {fixed:,} bytes, {_pct(fixed / s['int4'])} "
        f"of the int4 file, {fixed / s['float']:.4f} of the float file. The goal allows {target:,} bytes; the file "
        f"is {abs(over):,} bytes {'over' if over > 0 else 'under'}.",
        "",
        *mobilenet_what_if(mn),
        *mobilenet_fidelity(mn),
    ]


def mobilenet_what_if(mn: dict[str, Any]) -> list[str]:
    s, b4 = mn["sizes"], mn["breakdown"]["int4"]
    no_zp = s["int4"] - b4["zero_points_per_channel"]
    return [
        "What would make it smaller (computed from the figures above, not built; a change to the converter): "
        f"empty zero-point vectors on per-channel tensors (the schema allows them; "
        f"{b4['nonzero_zero_points_per_channel']} of them are non-zero here): -{b4['zero_points_per_channel']:,} B, "
        f"{no_zp:,} B = {no_zp / s['float']:.4f} of float. Whether LiteRT and TFLite Micro accept empty zero points "
        "has to be checked per kernel before such a change is made.",
        "",
    ]


def mobilenet_fidelity(mn: dict[str, Any]) -> list[str]:
    f8, f4 = (mn["conversions"][k].get("fidelity") or {} for k in ("int8", "int4"))
    if not f8 or not f4:
        return [
            "No accuracy is claimed for MobileNetV2 (random weights), and with no int4 file from `edgeq.convert` "
            "its float-vs-quantized check did not run.",
            "",
        ]
    return [
        "No accuracy is claimed for MobileNetV2: with random weights its 1000-way softmax is nearly uniform "
        "(every probability about 0.001, below one int8 output step of 1/256), so the conversions' own check "
        f"against the float model on the {f8['samples']} held-out images (top-1 agreement int8 "
        f"{_pct(f8['top1_agreement'] or 0.0)}, int4 {_pct(f4['top1_agreement'] or 0.0)}; output SNR "
        f"{round(f8['snr_db'], 1) + 0.0:.1f} / {round(f4['snr_db'], 1) + 0.0:.1f} dB; largest error {f8['max_abs_error']:.4f} / "
        f"{f4['max_abs_error']:.4f}) only shows that both files run on LiteRT.",
        "",
    ]


def mobilenet_engine(mn: dict[str, Any]) -> list[str]:
    rows = []
    for kind in ("int8", "int4"):
        e = mn["engine"][kind]
        if "error" in e:
            rows.append(f"| {kind} | {e['error']} | | | | |")
            continue
        cells = [e["weights"], e["biases"], e["requant"], e["other"], e["total"]]
        rows.append(f"| {kind} | " + " | ".join(f"{c:,}" for c in cells) + " |")
    return [
        "The compiled engine's constants for the same two files (`build_engine(...).constants`, measured; not "
        "profiled on the emulated Cortex-M4: about 300 M multiply-adds an inference, Sandler et al., MobileNetV2, "
        "2018):",
        "",
        "| model | weights B | biases B | requant B | other B | total B |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
    ]


if __name__ == "__main__":
    sys.exit(main())
