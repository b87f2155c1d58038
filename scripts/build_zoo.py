"""Build the model-zoo fixtures (MLPerf-Tiny-shaped models) in tests/fixtures/zoo/<name>/.

    .venv/bin/python scripts/build_zoo.py [--only NAME] [--out DIR] [--converter auto]

For every model of ``scripts/zoo.py``: seed everything, train briefly on its
synthetic data (weights and BatchNorm statistics become realistic), refresh
the BatchNorm statistics as exact averages over training batches, then write

* ``model.keras``: the trained model, only when smaller than KERAS_MAX_BYTES;
* ``float.tflite``: plain ``TFLiteConverter.from_keras_model``, no optimisation;
* ``int8.tflite``: full-integer int8 with int8 input and output, made by
  ``edgeq.convert`` (``--converter fallback`` or an edgeq.convert that cannot be
  imported uses a plain TFLiteConverter instead, see :func:`_fallback_int8`);
* ``meta.json``: shapes, parameters, MACs, float and int8 quality on held-out
  synthetic data (both measured with LiteRT), seeds, sizes, converter used.

The whole build takes about 3-4 minutes on two CPU cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import zoo  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "zoo"
SEED = 20240  # keras/numpy/python seed; data seeds derive from it
CALIBRATION_SAMPLES = 200
# .keras files are kept only below this size: the float .tflite files already take
# about 2.4 MB, and the whole fixture folder must stay under about 4 MB.
KERAS_MAX_BYTES = 1_600_000  # keep every zoo model: the benchmarks and later stages reuse the trained weights
BN_REFRESH_BATCHES = 16


@dataclass(frozen=True)
class Plan:
    """How one model trains and is evaluated."""

    train: int
    test: int
    epochs: int
    batch: int
    lr: float = 1e-3


PLANS = {
    "kws_dscnn": Plan(train=2000, test=600, epochs=6, batch=32),
    "ic_resnet8": Plan(train=2000, test=500, epochs=6, batch=32),
    "vww_mobilenet": Plan(train=1600, test=300, epochs=10, batch=32),
    "ad_autoencoder": Plan(train=2000, test=600, epochs=60, batch=32),
    "imu_lstm": Plan(train=2400, test=600, epochs=8, batch=32, lr=3e-3),
    "seg_unet": Plan(train=2000, test=300, epochs=12, batch=32, lr=3e-3),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Build the selected zoo models; returns the process exit code."""
    args = _parser().parse_args(argv)
    names = [args.only] if args.only else list(zoo.ZOO)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    started = time.monotonic()
    for name in names:
        meta = build_one(name, Path(args.out) / name, args.converter)
        q = meta["quality"]
        print(
            f"{name}: {meta['params']['total']} params, {meta['macs']['computed']} MACs, "
            f"{q['metric']} float {q['float']:.3f} int8 {q['int8']:.3f}, "
            f"{meta['build_seconds']:.0f} s, int8 by {meta['converter']}",
            flush=True,
        )
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=sorted(zoo.ZOO), help="build only this model")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="fixture root folder")
    parser.add_argument(
        "--converter",
        choices=("auto", "edgeq", "fallback"),
        default="auto",
        help="int8 converter: edgeq.convert, the plain TFLiteConverter fallback, or "
        "auto (edgeq.convert when it imports)",
    )
    return parser


def build_one(name: str, out: Path, converter: str = "auto") -> dict[str, Any]:
    """Train, convert and measure zoo model ``name``; write its fixture folder."""
    import keras

    started = time.monotonic()
    entry, plan = zoo.ZOO[name], PLANS[name]
    keras.backend.clear_session()  # layer names (and so the .tflite bytes) independent of build order
    keras.utils.set_random_seed(SEED)
    model = entry.builder()
    x, y = _train_data(name, plan.train)
    history = _train(model, name, x, y, plan)
    _refresh_bn_statistics(model, x)
    out.mkdir(parents=True, exist_ok=True)
    export = _export(name, model)
    if export is model:
        keras_bytes = _save_keras(entry, model, out / "model.keras")
    else:  # a tf-keras model: saved as .h5, which edgeq convert reads through tf-keras
        export.save(out / "model.h5")
        keras_bytes = (out / "model.h5").stat().st_size
    (out / "float.tflite").write_bytes(_float_tflite(export))
    used = _write_int8(export, x, out / "int8.tflite", converter)
    x_test, y_test = zoo.make_data(name, plan.test, SEED + 2)
    quality = _quality(name, out, x_test, y_test)
    sizes = {"keras": keras_bytes, **{f"{k}_tflite": (out / f"{k}.tflite").stat().st_size for k in ("float", "int8")}}
    meta = _meta(entry, plan, model, history, quality, sizes, used)
    meta["build_seconds"] = round(time.monotonic() - started, 1)
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def _export(name: str, model: Any) -> Any:
    """What the converters get: imu_lstm's tf-keras twin (it converts to the fused LSTM op), else ``model``."""
    return zoo.zoo_imu.tf_keras_twin(model) if name == "imu_lstm" else model


def _train_data(name: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    if name == "ad_autoencoder":  # an anomaly detector trains on normal data only
        return zoo.make_data(name, n, SEED + 1, anomaly_fraction=0.0)
    return zoo.make_data(name, n, SEED + 1)


def _train(model: Any, name: str, x: np.ndarray, y: np.ndarray, plan: Plan) -> dict[str, float]:
    import keras

    optimizer = keras.optimizers.Adam(plan.lr)
    if name == "ad_autoencoder":
        model.layers[-1].bias.assign(x.mean(axis=0))  # start from the mean spectrum
        model.compile(optimizer=optimizer, loss="mse")
        target = x
    else:
        model.compile(optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        target = y
    fit = model.fit(x, target, epochs=plan.epochs, batch_size=plan.batch, shuffle=True, verbose=0)
    return {key: round(float(values[-1]), 4) for key, values in fit.history.items()}


def _refresh_bn_statistics(model: Any, x: np.ndarray, batch: int = 128) -> None:
    """Set BN moving mean/variance to the average over training batches ("precise BN").

    Training already moved the statistics, but with momentum 0.99 and a few hundred
    steps they still lag the final weights; a cumulative average fixes that.
    """
    import keras

    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in norms]
    for k, start in enumerate(range(0, min(len(x), batch * BN_REFRESH_BATCHES), batch)):
        for layer in norms:
            layer.momentum = k / (k + 1)  # running mean of the per-batch statistics
        model(x[start : start + batch], training=True)
    for layer, momentum in zip(norms, saved, strict=True):
        layer.momentum = momentum


def _save_keras(entry: zoo.ZooEntry, model: Any, path: Path) -> int | None:
    """Save the trained weights in an uncompiled copy (no optimizer state), if small."""
    fresh = entry.builder()
    fresh.set_weights(model.get_weights())
    fresh.save(path)
    size = path.stat().st_size
    if size < KERAS_MAX_BYTES:
        return size
    path.unlink()
    return None


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence fd 1: the TFLite converter prints "Saved artifact at ..." there."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _float_tflite(model: Any) -> bytes:
    import tensorflow as tf

    with _quiet_stdout():
        return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def _write_int8(model: Any, calib: np.ndarray, path: Path, converter: str) -> str:
    """Write int8.tflite; returns the name of the converter used."""
    convert = None if converter == "fallback" else _edgeq_convert(required=converter == "edgeq")
    if convert is None:
        path.write_bytes(_fallback_int8(model, calib, CALIBRATION_SAMPLES, SEED))
        return "fallback (tf.lite.TFLiteConverter)"
    with tempfile.TemporaryDirectory() as tmp, _quiet_stdout():
        target = Path(tmp) / "int8.tflite"  # the report JSON beside it is not kept
        convert(model, calib, target, mode="int8", io="int8", samples=CALIBRATION_SAMPLES, seed=SEED)
        shutil.copyfile(target, path)
    return "edgeq.convert"


def _edgeq_convert(required: bool) -> Any:
    try:
        from edgeq.convert import convert
    except ImportError as exc:
        if required:
            raise
        print(f"warning: edgeq.convert unavailable ({exc}); using _fallback_int8", flush=True)
        return None
    return convert


def _fallback_int8(model: Any, calib: np.ndarray, samples: int, seed: int) -> bytes:
    """Full-integer int8 conversion with a plain TFLiteConverter (int8 input and output)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    chosen = calib[rng.choice(len(calib), min(samples, len(calib)), replace=False)]

    def representative() -> Iterator[list[np.ndarray]]:
        for row in chosen:
            yield [row[None].astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    with _quiet_stdout():
        return converter.convert()


def run_tflite(path: Path, x: np.ndarray) -> np.ndarray:
    """Run a .tflite model sample by sample in LiteRT; quantizes/dequantizes int8 I/O."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    results = []
    for row in x:
        interpreter.reset_all_variables()  # every window starts from zero recurrent state
        interpreter.set_tensor(inp["index"], _to_input(row[None], inp))
        interpreter.invoke()
        results.append(_from_output(interpreter.get_tensor(out["index"]), out)[0])
    return np.stack(results)


def _to_input(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    if detail["dtype"] != np.int8:
        return x.astype(detail["dtype"])
    scale, zero = detail["quantization"]
    return np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)


def _from_output(y: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    if detail["dtype"] != np.int8:
        return y.astype(np.float32)
    scale, zero = detail["quantization"]
    return (y.astype(np.float32) - zero) * scale


def _quality(name: str, folder: Path, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Accuracy (classifiers), reconstruction-error AUC (autoencoder) or object IoU (segmenter), float vs int8."""
    result: dict[str, Any] = {"samples": len(x)}
    for kind in ("float", "int8"):
        out = run_tflite(folder / f"{kind}.tflite", x)
        if y.ndim > 1:  # per-pixel masks: IoU of the predicted and true object pixels, and pixel accuracy
            predicted = out.argmax(axis=-1)
            both, either = np.sum((predicted == 1) & (y == 1)), np.sum((predicted == 1) | (y == 1))
            result[kind] = round(float(both / max(either, 1)), 4)
            result[f"{kind}_pixel_accuracy"] = round(float((predicted == y).mean()), 4)
        elif name == "ad_autoencoder":
            error = ((out - x) ** 2).mean(axis=1)
            result[kind] = round(auc(error, y), 4)
            result[f"{kind}_mse_normal"] = round(float(error[y == 0].mean()), 3)
        else:
            result[kind] = round(float((out.argmax(axis=1) == y).mean()), 4)
    result["metric"] = "iou" if y.ndim > 1 else "auc" if name == "ad_autoencoder" else "accuracy"
    return result


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U); labels 1 are the positives."""
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores, kind="stable")] = np.arange(1, len(scores) + 1)
    pos = labels == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _meta(
    entry: zoo.ZooEntry,
    plan: Plan,
    model: Any,
    history: dict[str, float],
    quality: dict[str, Any],
    sizes: dict[str, Any],
    converter: str,
) -> dict[str, Any]:
    total, trainable = zoo.count_params(model)
    return {
        "name": entry.name,
        "description": entry.description,
        "input_shape": list(entry.input_shape),
        "input_range": list(entry.input_range),
        "classes": entry.classes,
        "params": {
            "total": total,
            "trainable": trainable,
            "published": entry.published_params,
            "published_kind": entry.published_params_kind,
            "published_source": entry.params_source,
        },
        "macs": {
            "computed": zoo.count_macs(model),
            "published": entry.published_macs,
            "published_source": entry.macs_source,
        },
        "quality": quality,
        "sizes": sizes,
        "training": {**asdict(plan), "optimizer": "adam", "final": history, "bn_refresh_batches": BN_REFRESH_BATCHES},
        "seeds": {
            "keras": SEED,
            "train_data": SEED + 1,
            "test_data": SEED + 2,
            "calibration": SEED,
            "calibration_samples": CALIBRATION_SAMPLES,
        },
        "converter": converter,
        "versions": _versions(),
    }


def _versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for package in ("tensorflow", "tensorflow-cpu", "keras", "ai-edge-litert"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[package] = metadata.version(package)
    return found


if __name__ == "__main__":
    sys.exit(main())
