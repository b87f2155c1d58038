"""``edgeq demo``: the whole converter path on a built-in example, offline.

Trains a small CNN on scikit-learn's bundled 8x8 handwritten digits, converts
it to a fully-integer int8 .tflite with edgeq, and compares float and int8:
file size, test accuracy and LiteRT latency per inference.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from edgeq.codegen import generate
from edgeq.convert import convert
from edgeq.convert.converter import convert_float
from edgeq.convert.loader import load_model
from edgeq.errors import DependencyError
from edgeq.litert import Runner
from edgeq.log import logger, quiet
from edgeq.metrics import top1_accuracy
from edgeq.outputs import atomic_write
from edgeq.tfimport import KerasModel, import_tf
from edgeq.timing import measure


@dataclass(frozen=True)
class DemoRow:
    """One model of the demo table."""

    model: str
    path: str
    size_bytes: int
    accuracy: float
    latency_ms_p50: float
    latency_ms_p99: float


@dataclass(frozen=True)
class DemoResult:
    rows: tuple[DemoRow, ...]
    test_samples: int
    seconds: float
    tflm: dict[str, Any] | None = None
    profiles: tuple[Any, ...] = ()  # ProfileResult per target
    skipped_targets: tuple[str, ...] = ()
    report: str | None = None  # the HTML profile report

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [asdict(r) for r in self.rows],
            "test_samples": self.test_samples,
            "tflm": self.tflm,
            "profiles": [p.to_dict() for p in self.profiles],
            "skipped_targets": list(self.skipped_targets),
            "report": self.report,
            "seconds": self.seconds,
        }


def load_digits_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Digits as (N, 8, 8, 1) floats in [0, 1]; a seeded 75/25 train/test split."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise DependencyError("the demo uses scikit-learn's bundled digits; pip install 'edgeq[convert]'") from exc
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    cut = int(0.75 * len(x))
    return x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]


def train_digits_model(x: np.ndarray, y: np.ndarray, seed: int = 0, epochs: int = 30) -> KerasModel:
    """A small CNN (about 6k parameters), trained for a few seconds."""
    import_tf()
    import keras

    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1), name="digit"),
            layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool"),
            layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dw"),
            layers.GlobalAveragePooling2D(name="gap"),
            layers.Dense(10, activation="softmax", name="classes"),
        ],
        name="digits_cnn",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    with quiet():
        model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
    return model


def run_demo(out_dir: str | Path = "edgeq-demo", seed: int = 0) -> DemoResult:
    """Train, convert, evaluate and time; files land in ``out_dir``."""
    started = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x_train, y_train, x_test, y_test = load_digits_split(seed)
    logger.info("training a small CNN on %d digits (8x8) ...", len(x_train))
    model = train_digits_model(x_train, y_train, seed)
    keras_path = out / "digits.keras"
    model.save(keras_path)
    float_path = out / "digits_float.tflite"
    atomic_write(float_path, convert_float(import_tf(), load_model(keras_path)))
    int8_path = out / "digits_int8.tflite"
    logger.info("converting to int8 with edgeq ...")
    convert(keras_path, x_train, int8_path, mode="int8", samples=200, seed=seed)
    rows = tuple(_measure(name, path, x_test, y_test) for name, path in (("float32", float_path), ("int8", int8_path)))
    tflm = _generate_tflm(int8_path, out / "digits_tflm")
    profiles, skipped = _profile(int8_path, x_test[:1])
    report = _report(profiles, out / "profile.html")
    result = DemoResult(rows, len(x_test), round(time.monotonic() - started, 1), tflm, profiles, skipped)
    return replace(result, report=report)


# target -> (runs, tools it needs on PATH)
DEMO_TARGETS = {
    "host": (200, ()),
    "host-c": (200, ("gcc",)),
    "host-tflm": (100, ()),
    "qemu-m4": (5, ("qemu-system-arm", "arm-none-eabi-gcc")),
}


def _profile(model: Path, sample: np.ndarray) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """The int8 model profiled on every demo target whose tools are installed."""
    import shutil

    from edgeq.profiling import profile

    results, skipped = [], []
    for target, (runs, tools) in DEMO_TARGETS.items():
        missing = [t for t in tools if shutil.which(t) is None]
        if missing or (target == "host-tflm" and not _has_tflm()):
            skipped.append(f"{target} (needs {', '.join(missing) or 'tflite-micro'})")
            continue
        logger.info("profiling on %s (%d runs) ...", target, runs)
        results.append(profile(model, target, runs=runs, warmup=min(runs, 10), inputs=[sample], op_times=True))
    return tuple(results), tuple(skipped)


def _report(profiles: tuple[Any, ...], path: Path) -> str | None:
    """The self-contained HTML comparison of every profiled target (with the engine's per-op times)."""
    if not profiles:
        return None
    from edgeq.profiling.report import write_report

    write_report(list(profiles), path)
    return str(path)


def _has_tflm() -> bool:
    import importlib.util

    return importlib.util.find_spec("tflite_micro") is not None


DEMO_BOARD = "nano33-ble-sense"


def _generate_tflm(model: Path, out: Path) -> dict[str, Any] | None:
    """The int8 model as a TFLM project for a common teaching board (None without tflite-micro)."""
    logger.info("generating a TensorFlow Lite Micro project for %s ...", DEMO_BOARD)
    try:
        report = generate(model, "tflm", out, name="digits", board=DEMO_BOARD)
    except DependencyError as exc:
        logger.warning("warning: skipped the TFLM project: %s", exc)
        return None
    engine = generate(model, "engine", out.parent / "digits_engine", name="digits", board=DEMO_BOARD)
    return {
        "out_dir": report.out_dir,
        "board": DEMO_BOARD,
        "flash_bytes": report.flash_bytes,
        "arena_bytes": report.arena_bytes,
        "ops": list(report.ops),
        "engine": {
            "out_dir": engine.out_dir,
            "arena_bytes": engine.arena_bytes,
            "flash_bytes": engine.flash_bytes,
            "flash_how": engine.flash_how,
        },
    }


def _measure(name: str, path: Path, x: np.ndarray, y: np.ndarray) -> DemoRow:
    runner = Runner(path, threads=1)
    outputs = np.stack([runner.run_float([x[i : i + 1]])[0] for i in range(len(x))])
    sample = [runner.inputs[0].quantize(x[:1])]  # time the model, not Python-side quantization
    stats = measure(lambda: runner.run(sample), runs=500, warmup=50)
    return DemoRow(name, str(path), path.stat().st_size, top1_accuracy(outputs, y), stats.p50, stats.p99)
