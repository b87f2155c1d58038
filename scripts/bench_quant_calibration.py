"""Calibration methods (issue 7): min/max vs percentile, MSE and entropy; writes docs/benchmarks-quant-calibration.json.

1. ``glitch_net``: a 1-D CNN classifying synthetic 3-axis sensor windows
   (128 x 3, six classes told apart by a faint 0.15-amplitude tone under a
   unit-amplitude carrier). One window in a hundred carries a glitch: a single
   sample of +-30..60, in training, calibration and test data alike. Min/max
   calibration stretches the int8 input and hidden ranges over the glitches
   and loses the faint tone; clipping calibrations keep it. Everything is
   generated from seeds here; nothing is downloaded. Seed 0 gets every
   variant; seeds 1-3 (other data draws and trainings) show the spread.
2. The model zoo (tests/fixtures/zoo, data regenerated as scripts/build_zoo.py
   draws it): each method's metric against float, to show what the methods do
   on models without outliers.

``run()`` returns the results, ``markdown(results)`` renders them. Usage:
``python scripts/bench_quant_calibration.py [--only glitch_net|ZOO_NAME]``
(a few minutes; the whole run writes the JSON).
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
OUT_JSON = ROOT / "docs" / "benchmarks-quant-calibration.json"
ZOO_DIR = ROOT / "tests" / "fixtures" / "zoo"
ZOO_SEED = 20240  # scripts/build_zoo.py: calibration draw SEED + 1, test draw SEED + 2
SEEDS = (0, 1, 2, 3)
WINDOW, AXES, CLASSES = 128, 3, 6
GLITCH_RATE = 0.01
CALIBRATION_SAMPLES = 500
VARIANTS: dict[str, dict[str, Any]] = {
    "minmax": {"calibration": "minmax"},
    "percentile 99.99": {"calibration": "percentile"},
    "percentile 99.9": {"calibration": "percentile", "percentile": 99.9},
    "mse": {"calibration": "mse"},
    "entropy": {"calibration": "entropy"},
    "percentile 99.99 symmetric": {"calibration": "percentile", "symmetric_activations": True},
    "entropy symmetric": {"calibration": "entropy", "symmetric_activations": True},
}
CORE_VARIANTS = ("minmax", "percentile 99.99", "mse", "entropy")


def sensor_windows(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x (n, 128, 3), labels, glitched)``: carrier + faint class tone + noise, 1 % with one spike of 30..60."""
    labels = rng.integers(0, CLASSES, n)
    t = np.arange(WINDOW) / WINDOW
    carrier = np.sin(
        2 * np.pi * rng.uniform(3, 5, (n, 1, 1)) * t[None, :, None] + rng.uniform(0, 2 * np.pi, (n, 1, AXES))
    )
    tone = np.sin(2 * np.pi * (8 + 2 * labels)[:, None, None] * t[None, :, None] + rng.uniform(0, 2 * np.pi, (n, 1, 1)))
    x = carrier + 0.15 * tone + 0.05 * rng.standard_normal((n, WINDOW, AXES))
    glitched = rng.random(n) < GLITCH_RATE
    rows = np.flatnonzero(glitched)
    spikes = rng.choice([-1.0, 1.0], len(rows)) * rng.uniform(30, 60, len(rows))
    x[rows, rng.integers(0, WINDOW, len(rows)), rng.integers(0, AXES, len(rows))] = spikes
    return x.astype(np.float32), labels, glitched


def glitch_net(x: np.ndarray, y: np.ndarray, seed: int) -> Any:
    """Conv1D(16, 7) -> max-pool -> Conv1D(16, 5) -> global average -> dense softmax, trained 15 epochs."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((WINDOW, AXES), name="signal")
    h = keras.layers.Conv1D(16, 7, activation="relu", name="conv1")(inputs)
    h = keras.layers.MaxPooling1D(2, name="pool")(h)
    h = keras.layers.Conv1D(16, 5, activation="relu", name="conv2")(h)
    h = keras.layers.GlobalAveragePooling1D(name="gap")(h)
    model = keras.Model(inputs, keras.layers.Dense(CLASSES, activation="softmax", name="head")(h), name="glitch_net")
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=15, batch_size=64, verbose=0)
    return model


def predict(path: Path, x: np.ndarray) -> np.ndarray:
    """Float outputs of a .tflite model in LiteRT, one sample at a time."""
    from edgeq.litert import Runner
    from edgeq.log import quiet

    with quiet():
        runner = Runner(path)
    return np.concatenate([runner.run_float([x[i : i + 1]])[0] for i in range(len(x))])


def convert_variant(model: Any, calib: np.ndarray, path: Path, variant: str, samples: int) -> dict[str, Any]:
    """Convert with one calibration variant; the report's figures that the tables use."""
    from edgeq.convert import convert

    started = time.perf_counter()
    report = convert(model, calib, path, samples=samples, seed=0, check_samples=0, **VARIANTS[variant])
    cal = report.calibration or {}
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "input_scale": report.inputs[0].scale,
        "clipped_tensors": cal.get("clipped_tensors"),
        "tensors": len(cal.get("tensors") or []),
        "median_ratio": cal.get("median_ratio"),
    }


def run_glitch_net(work: Path, seed: int, variants: tuple[str, ...]) -> dict[str, Any]:
    """Train glitch_net, convert it with ``variants``, score all test windows and the glitch-free ones."""
    rng = np.random.default_rng(seed)
    (x_train, y_train, _), (x_test, y_test, glitched) = sensor_windows(6000, rng), sensor_windows(2000, rng)
    calib = sensor_windows(CALIBRATION_SAMPLES, rng)[0]
    model = glitch_net(x_train, y_train, seed)
    clean = ~glitched

    def scores(probs: np.ndarray) -> dict[str, float]:
        right = probs.argmax(axis=1) == y_test
        return {"accuracy": 100 * float(right.mean()), "accuracy_clean": 100 * float(right[clean].mean())}

    out: dict[str, Any] = {"float": scores(model.predict(x_test, verbose=0)), "variants": {}}
    out["test_windows"], out["glitched_test_windows"] = len(x_test), int(glitched.sum())
    out["calibration_windows"], out["seed"] = CALIBRATION_SAMPLES, seed
    for variant in variants:
        path = work / f"glitch_{variant.replace(' ', '_')}.tflite"
        entry = convert_variant(model, calib, path, variant, CALIBRATION_SAMPLES)
        entry.update(scores(predict(path, x_test)))
        out["variants"][variant] = entry
    _add_recovery(out)
    return out


def _add_recovery(out: dict[str, Any]) -> None:
    """Points lost by min/max, and the share of that loss each variant wins back."""
    lost = out["float"]["accuracy"] - out["variants"]["minmax"]["accuracy"]
    out["minmax_loss_points"] = round(lost, 2)
    for entry in out["variants"].values():
        entry["recovered"] = (entry["accuracy"] - out["variants"]["minmax"]["accuracy"]) / lost if lost > 0 else None


def zoo_metric(name: str, outputs: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy in percent, or for the autoencoder the AUC (percent) of its reconstruction error."""
    import build_zoo

    if name == "ad_autoencoder":
        error = ((outputs.reshape(len(x), -1) - x.reshape(len(x), -1)) ** 2).mean(axis=1)
        return 100 * build_zoo.auc(error, y)
    return 100 * float(np.mean(outputs.argmax(axis=1) == y))


def run_zoo_model(name: str, work: Path) -> dict[str, Any]:
    """Float vs each zoo variant on the held-out draw of one zoo model."""
    import build_zoo
    import zoo

    plan = build_zoo.PLANS[name]
    options = {"anomaly_fraction": 0.0} if name == "ad_autoencoder" else {}
    calib, _ = zoo.make_data(name, plan.train, ZOO_SEED + 1, **options)
    x, y = zoo.make_data(name, plan.test, ZOO_SEED + 2)
    out: dict[str, Any] = {"float": zoo_metric(name, predict(ZOO_DIR / name / "float.tflite", x), x, y)}
    out["metric"] = "AUC" if name == "ad_autoencoder" else "accuracy"
    out["variants"] = {}
    for variant in CORE_VARIANTS:
        path = work / f"{name}_{variant.replace(' ', '_')}.tflite"
        entry = convert_variant(str(ZOO_DIR / name / "model.keras"), calib, path, variant, 200)
        entry["score"] = zoo_metric(name, predict(path, x), x, y)
        out["variants"][variant] = entry
    return out


def run(only: str | None = None) -> dict[str, Any]:
    """The glitch_net proof (all seeds) and the zoo table (or only the one named)."""
    results: dict[str, Any] = {"machine": platform.machine(), "models": {}, "glitch_net_seeds": []}
    names = ["glitch_net"] + sorted(p.parent.name for p in ZOO_DIR.glob("*/model.keras"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in [n for n in names if only in (None, n)]:
            if name == "glitch_net":
                results["models"][name] = run_glitch_net(work, SEEDS[0], tuple(VARIANTS))
                results["glitch_net_seeds"] = [_seed_row(results["models"][name])]
                results["glitch_net_seeds"] += [_seed_row(run_glitch_net(work, s, CORE_VARIANTS)) for s in SEEDS[1:]]
            else:
                results["models"][name] = run_zoo_model(name, work)
            print(f"{name}: done", file=sys.stderr, flush=True)
    return results


def _seed_row(r: dict[str, Any]) -> dict[str, Any]:
    row = {"seed": r["seed"], "float": r["float"]["accuracy"], "minmax_loss_points": r["minmax_loss_points"]}
    for v in CORE_VARIANTS:
        row[v] = r["variants"][v]["accuracy"]
        row[f"{v} recovered"] = r["variants"][v]["recovered"]
    return row


def markdown(results: dict[str, Any]) -> str:
    """Markdown: the outlier proof table, then the zoo table."""
    lines = ["# Calibration methods", ""]
    glitch = results["models"].get("glitch_net")
    if glitch:
        lines += _glitch_table(glitch) + _seeds_table(results["glitch_net_seeds"])
    zoo_rows = {k: v for k, v in results["models"].items() if k != "glitch_net"}
    if zoo_rows:
        lines += _zoo_table(zoo_rows)
    return "\n".join(lines) + "\n"


def _glitch_table(r: dict[str, Any]) -> list[str]:
    f = r["float"]
    lines = [
        f"## Rare outliers: glitch_net, seed {r['seed']} ({r['glitched_test_windows']} of {r['test_windows']} "
        f"test windows glitched, {r['calibration_windows']} calibration windows)",
        "",
        f"Float: {f['accuracy']:.2f} % ({f['accuracy_clean']:.2f} % on glitch-free windows). "
        f"Min/max int8 loses {r['minmax_loss_points']:.2f} points.",
        "",
        "| calibration | accuracy % | glitch-free % | recovered | input scale | ranges clipped | convert s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, v in r["variants"].items():
        recovered = _percent(v["recovered"])
        clipped = f"{v['clipped_tensors']} / {v['tensors']}" if v["tensors"] else "-"
        lines.append(
            f"| {name} | {v['accuracy']:.2f} | {v['accuracy_clean']:.2f} | {recovered} | "
            f"{v['input_scale']:.4g} | {clipped} | {v['seconds']:.1f} |"
        )
    return [*lines, ""]


def _seeds_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "Other seeds (data draw and training), accuracy % (share of the min/max loss recovered):",
        "",
        "| seed | float | " + " | ".join(CORE_VARIANTS) + " |",
        "| ---: | ---: | " + " | ".join("---:" for _ in CORE_VARIANTS) + " |",
    ]
    for r in rows:
        cells = [f"{r['minmax']:.2f}"]
        cells += [f"{r[v]:.2f} ({_percent(r[f'{v} recovered'])})" for v in CORE_VARIANTS[1:]]
        lines.append(f"| {r['seed']} | {r['float']:.2f} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.0f} %"


def _zoo_table(rows: dict[str, Any]) -> list[str]:
    lines = [
        "## Model zoo (no planted outliers): change vs float in points",
        "",
        "| model | metric | float | " + " | ".join(CORE_VARIANTS) + " |",
        "| --- | --- | ---: | " + " | ".join("---:" for _ in CORE_VARIANTS) + " |",
    ]
    for name, r in rows.items():
        cells = [f"{r['variants'][v]['score'] - r['float']:+.2f}" for v in CORE_VARIANTS]
        lines.append(f"| {name} | {r['metric']} | {r['float']:.2f} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="glitch_net or one zoo model name")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run(args.only)
    results["seconds"] = round(time.perf_counter() - started, 1)
    if args.only is None:
        OUT_JSON.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
