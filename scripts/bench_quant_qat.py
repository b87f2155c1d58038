"""QAT vs PTQ, and weight clustering / pruning; writes docs/benchmarks-quant-qat.json (and .md).

QAT: "carrier_net" is a seeded synthetic 6-class problem (12 Gaussian features,
labels from a fixed random tanh teacher) solved by an MLP whose 64 learned
hidden features are concatenated with one wide-range feature: a frozen unit
reading raw feature x0 with gain 20 (values 20 to 140), like a model that
concatenates an un-normalised sensor reading with learned features. TFLite's
CONCATENATION shares one scale across its inputs, so post-training int8 (PTQ)
quantizes the learned features with a step of about 0.55 and loses accuracy.
``edgeq.quant.qat.qat`` fine-tunes the model with fake quantization (4 epochs,
Adam 3e-4) and converts it. A control fine-tunes the float model for the same
epochs and converts it with PTQ, to show the gain is not the extra training.

Clustering and pruning: the kws_dscnn zoo model (tests/fixtures/zoo) with the
data of scripts/build_zoo.py regenerated deterministically; plain int8 vs
clustered (16 values per kernel), pruned (50 %) and pruned then clustered
(sparsity-preserving), each fine-tuned 4 epochs (Adam 1e-4) on the training draw; plain and
gzip sizes of the int8 .tflite and top-1 accuracy on the held-out draw.

Usage: ``python scripts/bench_quant_qat.py`` (about 3 minutes on two cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
OUT_JSON = ROOT / "docs" / "benchmarks-quant-qat.json"
OUT_MD = OUT_JSON.with_suffix(".md")
ZOO_MODEL = "kws_dscnn"
ZOO_SEED = 20240  # scripts/build_zoo.py: calibration seed; train draw = +1, test draw = +2
FEATURES, CLASSES, GAIN = 12, 6, 20.0
QAT_EPOCHS, QAT_LR = 4, 3e-4
VARIANTS = {"cluster16": {"cluster": 16}, "prune50": {"prune": 0.5}, "prune50_cluster16": {"prune": 0.5, "cluster": 16}}


def carrier_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features N(0, 1) (x0 clipped to [-3, 3]); labels argmax of a fixed random tanh teacher."""
    teacher = np.random.default_rng(7)
    a, b = teacher.standard_normal((FEATURES, 16)), teacher.standard_normal((16, CLASSES))
    x = np.random.default_rng(seed).standard_normal((n, FEATURES)).astype(np.float32)
    x[:, 0] = np.clip(x[:, 0], -3, 3)
    return x, (np.tanh(x @ a) @ b).argmax(1)


def carrier_net(x: np.ndarray, y: np.ndarray) -> Any:
    """The MLP with the frozen wide-range carrier unit, trained 20 epochs (Keras 3)."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((FEATURES,), name="x")
    hidden = keras.layers.Dense(64, activation="relu", name="hidden")(inputs)
    carrier = keras.layers.Dense(1, activation="relu", name="carrier", trainable=False)(inputs)
    joined = keras.layers.Concatenate(name="join")([hidden, carrier])
    hidden2 = keras.layers.Dense(64, activation="relu", name="hidden2")(joined)
    model = keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax", name="head")(hidden2))
    kernel = np.zeros((FEATURES, 1), np.float32)
    kernel[0, 0] = GAIN
    model.get_layer("carrier").set_weights([kernel, np.array([4.0 * GAIN], np.float32)])
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, 20 * (len(x) // 64))
    model.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=20, batch_size=64, verbose=0)
    return model


def run_qat(tmp: Path) -> dict[str, Any]:
    """Float vs PTQ int8 vs QAT int8 on carrier_net, plus the fine-tuned-float control."""
    from edgeq.convert import ConvertOptions
    from edgeq.quant.candidates import convert_bytes, tflite_accuracy
    from edgeq.quant.qat import qat
    from edgeq.quant.tfkeras import to_tf_keras
    from edgeq.quant.training import TrainOptions, fine_tune, training_data

    (x, y), (xt, yt) = carrier_data(20000, 1), carrier_data(4000, 2)
    np.savez(tmp / "train.npz", x=x, y=y)
    np.savez(tmp / "test.npz", x=xt, y=yt)
    carrier_net(x, y).save(tmp / "carrier.keras")
    opts = TrainOptions(epochs=QAT_EPOCHS, lr=QAT_LR, batch_size=64)
    started = time.perf_counter()
    report = qat(
        tmp / "carrier.keras", tmp / "train.npz", tmp / "carrier_qat.tflite", eval_data=tmp / "test.npz", options=opts
    )
    qat_seconds = time.perf_counter() - started
    control = to_tf_keras(tmp / "carrier.keras")
    fine_tune(control, training_data(tmp / "train.npz", control, opts), opts, "control (float)")
    _, control_bytes = convert_bytes(control, {"x": x}, ConvertOptions(seed=0, check_samples=0))
    acc = dict(report.accuracy) | {"data": "carrier_data(4000, seed=2)"}
    acc["ptq_int8_after_float_finetune"] = round(tflite_accuracy(control_bytes, {"x": xt}, yt), 5)
    return {
        "model": "carrier_net",
        "train_samples": len(y),
        "test_samples": len(yt),
        "epochs": QAT_EPOCHS,
        "lr": QAT_LR,
        "accuracy": acc,
        "ptq_loss_points": round(100 * (acc["float"] - acc["ptq_int8"]), 2),
        "qat_loss_points": round(100 * (acc["float"] - acc["qat_int8"]), 2),
        "qat_gain_points": round(100 * (acc["qat_int8"] - acc["ptq_int8"]), 2),
        "bytes": report.conversion.output_bytes,
        "qat_seconds": round(qat_seconds, 1),
        "ptq_loses_more_than_1_point": acc["float"] - acc["ptq_int8"] > 0.01,
        "qat_beats_ptq": acc["qat_int8"] > acc["ptq_int8"],
        "qat_beats_finetuned_ptq": acc["qat_int8"] > acc["ptq_int8_after_float_finetune"],
    }


def zoo_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train x, train y, test x, test y) of the zoo model as scripts/build_zoo.py draws them."""
    import build_zoo
    import zoo

    plan = build_zoo.PLANS[ZOO_MODEL]
    x, y = zoo.make_data(ZOO_MODEL, plan.train, ZOO_SEED + 1)
    xt, yt = zoo.make_data(ZOO_MODEL, plan.test, ZOO_SEED + 2)
    return x, y, xt, yt


def variant_row(model: Any, blob: bytes, test: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, Any]:
    """Sizes, accuracy and the clustered / pruned state of the Conv2D and Dense kernels of one variant."""
    from edgeq.quant.candidates import tflite_accuracy
    from edgeq.quant.compress import gzip_size, kernel_stats

    kernels = [k for k in kernel_stats(model).values() if k["kind"] == "kernel"]
    return {
        "bytes": len(blob),
        "gzip_bytes": gzip_size(blob),
        "accuracy": round(tflite_accuracy(blob, test, labels), 5),
        "max_unique_per_kernel": max(k["unique"] for k in kernels),
        "mean_kernel_sparsity": round(float(np.mean([k["sparsity"] for k in kernels])), 4),
    }


def run_compression(tmp: Path) -> dict[str, Any]:
    """Plain int8 vs clustered / pruned int8 of the zoo model: sizes, gzip sizes, accuracy."""
    from edgeq.convert import ConvertOptions
    from edgeq.quant.candidates import convert_bytes, keras_accuracy
    from edgeq.quant.compress import CompressOptions, compress_model
    from edgeq.quant.tfkeras import to_tf_keras
    from edgeq.quant.training import TrainOptions, training_data

    x, y, xt, yt = zoo_data()
    base = to_tf_keras(ROOT / "tests" / "fixtures" / "zoo" / ZOO_MODEL / "model.keras")
    name = base.inputs[0].name.split(":")[0]
    train = TrainOptions(epochs=4, batch_size=32)
    np.savez(tmp / "zoo_train.npz", x=x, y=y)
    data = training_data(tmp / "zoo_train.npz", base, train)
    rows: dict[str, Any] = {}
    for variant, settings in {"int8": None, **VARIANTS}.items():
        started = time.perf_counter()
        options = None if settings is None else CompressOptions(train_data=data, train=train, **settings)
        model = base if options is None else compress_model(base, options)
        _, blob = convert_bytes(model, {name: x}, ConvertOptions(seed=ZOO_SEED, check_samples=0))
        rows[variant] = variant_row(model, blob, {name: xt}, yt) | {"seconds": round(time.perf_counter() - started, 1)}
        print(f"{variant}: {rows[variant]}", file=sys.stderr, flush=True)
    for row in rows.values():
        row["gzip_vs_int8"] = round(row["gzip_bytes"] / rows["int8"]["gzip_bytes"], 4)
        row["accuracy_change_points"] = round(100 * (row["accuracy"] - rows["int8"]["accuracy"]), 2)
    float_acc = round(keras_accuracy(base, {name: xt}, yt), 5)
    return {"model": ZOO_MODEL, "float_accuracy": float_acc, "test_samples": len(yt), "variants": rows}


def run() -> dict[str, Any]:
    """Both benchmarks; returns the JSON-ready results."""
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="edgeq-bench-qat-") as tmp:
        results = {"qat": run_qat(Path(tmp)), "compression": run_compression(Path(tmp))}
    results["meta"] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "tensorflow": tf.__version__,
        "tensorflow_model_optimization": tfmot.__version__,
        "seconds": round(time.perf_counter() - started, 1),
    }
    return results


def markdown(results: dict[str, Any]) -> str:
    """Two Markdown tables: QAT vs PTQ, and clustering / pruning sizes and accuracy."""
    q, c = results["qat"], results["compression"]
    a = q["accuracy"]
    lines = [
        "# QAT, weight clustering and pruning",
        "",
        f"## QAT vs PTQ ({q['model']}, {q['test_samples']} test samples, {q['epochs']} QAT epochs, lr {q['lr']:g})",
        "",
        "| float | PTQ int8 | PTQ int8 after float fine-tune | QAT int8 | PTQ loss | QAT loss | QAT gain |",
        "|---|---|---|---|---|---|---|",
        f"| {100 * a['float']:.2f} % | {100 * a['ptq_int8']:.2f} % | {100 * a['ptq_int8_after_float_finetune']:.2f} %"
        f" | {100 * a['qat_int8']:.2f} % | {q['ptq_loss_points']:.2f} pts | {q['qat_loss_points']:.2f} pts"
        f" | {q['qat_gain_points']:+.2f} pts |",
        "",
        f"## Clustering and pruning ({c['model']}, float {100 * c['float_accuracy']:.2f} %, {c['test_samples']} test samples)",
        "",
        "| variant | .tflite bytes | gzip bytes | gzip vs int8 | accuracy | change | max values/kernel | sparsity |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in c["variants"].items():
        lines.append(
            f"| {name} | {r['bytes']:,} | {r['gzip_bytes']:,} | {r['gzip_vs_int8']:.3f} | {100 * r['accuracy']:.2f} %"
            f" | {r['accuracy_change_points']:+.2f} pts | {r['max_unique_per_kernel']} | {r['mean_kernel_sparsity']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args(argv)
    results = run()
    OUT_JSON.parent.mkdir(parents=True, exist_ok=True)
    OUT_JSON.write_text(json.dumps(results, indent=2) + "\n")
    text = markdown(results)
    OUT_MD.write_text(text)
    print(text)
    q = results["qat"]
    return 0 if q["ptq_loses_more_than_1_point"] and q["qat_beats_ptq"] else 1


if __name__ == "__main__":
    sys.exit(main())
