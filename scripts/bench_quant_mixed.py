"""Mixed precision under an accuracy budget on the model zoo; writes docs/benchmarks-quant-mixed.json.

For each zoo model (tests/fixtures/zoo/<name>/model.keras), with the data of
scripts/build_zoo.py regenerated deterministically (calibration: the training
draw, 200 samples, seed 20240, as the fixture's int8.tflite; evaluation: the
held-out test draw):

- plain min/max int8 (the converter's default) vs float: drop in points;
- ``edgeq.quant.mixed.mixed_precision`` with a budget of 0.5 points: what it
  keeps float, its drop (must be within the budget and never worse than plain
  int8), size and LiteRT latency p50 of float / int8 / mixed;
- the same with a budget of 0 points, which makes the search work whenever
  int8 loses anything at all;
- the worst layers of ``edgeq analyze`` (local rmse/scale) on 50 samples.

A small synthetic model whose hidden layer has a rare, huge activation
("outlier_net") shows the search at work: min/max int8 loses most of its
accuracy, and keeping that one layer float recovers it.

Usage: ``python scripts/bench_quant_mixed.py [--only NAME]`` (about 2 minutes on two cores);
without ``--only`` it writes docs/benchmarks-quant-mixed.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
ZOO_DIR = ROOT / "tests" / "fixtures" / "zoo"
OUT_JSON = ROOT / "docs" / "benchmarks-quant-mixed.json"
OUT_MD = OUT_JSON.with_suffix(".md")
BUDGETS = (0.5, 0.0)
SEED = 20240  # scripts/build_zoo.py: calibration draw seed; data seeds derive from it
CALIBRATION_SAMPLES = 200
ANALYSIS_SAMPLES = 50


def zoo_data(name: str) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(calibration pool, (eval x, eval y)) exactly as scripts/build_zoo.py draws them."""
    import build_zoo
    import zoo

    plan = build_zoo.PLANS[name]
    options = {"anomaly_fraction": 0.0} if name == "ad_autoencoder" else {}
    calib, _ = zoo.make_data(name, plan.train, SEED + 1, **options)
    return calib, zoo.make_data(name, plan.test, SEED + 2)


def reconstruction_auc(outputs: np.ndarray, labels: np.ndarray | None, inputs: dict[str, np.ndarray]) -> float:
    """AUC of the autoencoder's reconstruction error as an anomaly score."""
    import build_zoo

    x = next(iter(inputs.values())).reshape(len(outputs), -1)
    error = ((outputs.reshape(len(outputs), -1) - x) ** 2).mean(axis=1)
    return build_zoo.auc(error, labels)


def outlier_net(keras: Any) -> tuple[Any, np.ndarray]:
    """A 16-8-9-4 classifier built by hand; hidden unit mid[8] fires rarely with values near 2000.

    The head ignores that unit, so the float model is exact, but min/max
    calibration stretches the range of the whole ``mid`` tensor to cover it.
    """
    w = np.random.default_rng(0).normal(0, 0.5, (16, 4)).astype(np.float32)
    inputs = keras.Input((16,), name="features")
    enc = keras.layers.Dense(8, activation="relu", name="enc")
    mid = keras.layers.Dense(9, activation="relu", name="mid")
    head = keras.layers.Dense(4, activation="softmax", name="head")
    model = keras.Model(inputs, head(mid(enc(inputs))), name="outlier_net")
    enc.set_weights([np.concatenate([w, -w], axis=1), np.zeros(8, np.float32)])
    kernel = np.zeros((8, 9), np.float32)
    kernel[np.arange(8), np.arange(8)] = 1.0
    kernel[0, 8] = 2000.0
    mid.set_weights([kernel, np.array([0.0] * 8 + [-2000.0 * 2.5], np.float32)])
    out = np.zeros((9, 4), np.float32)
    out[np.arange(4), np.arange(4)], out[4 + np.arange(4), np.arange(4)] = 5.0, -5.0
    head.set_weights([out, np.zeros(4, np.float32)])
    return model, w


def outlier_data(w: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian features; label = arg-max of x @ w, keeping samples with a clear margin."""
    x = np.random.default_rng(seed).normal(0, 1, (4 * n, 16)).astype(np.float32)
    logits = x @ w
    top2 = np.sort(logits, axis=1)[:, -2:]
    keep = top2[:, 1] - top2[:, 0] > 0.3
    return x[keep][:n], logits[keep][:n].argmax(axis=1)


def run_one(model: Any, calib: np.ndarray, evaluation: tuple, metric: Any, analyse: bool = True) -> dict[str, Any]:
    """Mixed precision at each budget, plus the analysis's worst layers."""
    from edgeq.quant.mixed import mixed_precision

    row: dict[str, Any] = {"budgets": {}}
    for budget in BUDGETS:
        start = time.perf_counter()
        result = mixed_precision(
            model, calib, evaluation, budget, samples=CALIBRATION_SAMPLES, seed=SEED, metric=metric
        )
        entry = result.to_dict()
        entry["wall_seconds"] = round(time.perf_counter() - start, 1)
        entry["within_budget"] = result.drop_points <= budget + 1e-9
        entry["not_worse_than_int8"] = result.score >= result.int8_score - 1e-9
        row["budgets"][str(budget)] = entry
    if analyse:
        row["worst_layers"] = worst_layers(model, calib)
    return row


def worst_layers(model: Any, calib: np.ndarray, count: int = 3) -> list[dict[str, Any]]:
    """The ``count`` worst rows of ``edgeq analyze`` plus any other flagged row."""
    from edgeq.quant.analyze import analyze
    from edgeq.quant.analyze_plot import flagged

    result = analyze(model, calib[:CALIBRATION_SAMPLES], samples=ANALYSIS_SAMPLES, seed=SEED)
    rows = [r for i, r in enumerate(result.rows) if i < count or flagged(r)]
    return [
        {
            "op": r.op,
            "layer": r.layer,
            "local_rmse_scale": r.local_rmse_scale,
            "rmse_scale": r.rmse_scale,
            "median_steps": r.median_steps,
            "saturation": r.saturation,
            "flagged": flagged(r),
        }
        for r in rows
    ]


def run(only: str | None = None) -> dict[str, Any]:
    """Benchmark every zoo model (or ``only`` that one) and the outlier model."""
    import keras

    from edgeq.quant.mixed import top1_accuracy

    results: dict[str, Any] = {"machine": platform.machine(), "budgets": list(BUDGETS), "models": {}}
    names = sorted(p.parent.name for p in ZOO_DIR.glob("*/model.keras"))
    for name in [n for n in names if only in (None, n)]:
        calib, evaluation = zoo_data(name)
        metric = reconstruction_auc if name == "ad_autoencoder" else top1_accuracy
        path = str(ZOO_DIR / name / "model.keras")
        results["models"][name] = run_one(path, calib, evaluation, metric)
        print(f"{name}: done", file=sys.stderr, flush=True)
    if only in (None, "outlier_net"):
        model, w = outlier_net(keras)
        results["models"]["outlier_net"] = run_one(
            model, outlier_data(w, 300, 1)[0], outlier_data(w, 600, 2), top1_accuracy
        )
    return results


def markdown(results: dict[str, Any]) -> str:
    """A Markdown table per budget: drops, what was kept float, sizes and latencies."""
    lines = ["# Mixed precision under an accuracy budget", ""]
    for budget in results["budgets"]:
        lines += [f"## Budget {budget} points", "", _header()]
        for name, row in results["models"].items():
            lines.append(_line(name, row["budgets"][str(budget)]))
        lines.append("")
    lines += ["## Worst layers (edgeq analyze on 50 samples; * = flagged)", ""]
    for name, row in results["models"].items():
        lines.append(f"- {name}: " + ", ".join(_worst(w) for w in row.get("worst_layers", [])))
    return "\n".join(lines) + "\n"


def _worst(w: dict[str, Any]) -> str:
    text = f"{w['layer'] or w['op']} local {w['local_rmse_scale'] or 0:.2f}"
    if w["median_steps"] is not None and w["median_steps"] < 2 and w["op"] != "SOFTMAX":
        text += f", median {w['median_steps']:.1f} steps"
    return text + (" *" if w["flagged"] else "")


def _header() -> str:
    cols = ["model", "metric", "float", "int8 drop", "mixed drop", "ok", "kept float", "bytes f/i8/mixed"]
    cols.append("p50 ms f/i8/mixed")
    return "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols)


def _line(name: str, r: dict[str, Any]) -> str:
    kept = ", ".join("+".join(k["layers"] or [k["op"]]) for k in r["kept_float"]) or "none (all int8)"
    sizes = "/".join(f"{r['sizes'][k]:,}" for k in ("float", "int8", "mixed"))
    lat = "/".join(f"{r['latency_p50_ms'][k]:.3f}" for k in ("float", "int8", "mixed"))
    cells = [name, r["metric"], f"{100 * r['float_score']:.2f}", f"{r['int8_drop_points']:+.2f}"]
    ok = "yes" if r["within_budget"] and r["not_worse_than_int8"] else "NO"
    cells += [f"{r['drop_points']:+.2f}", ok, kept, sizes, lat]
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="one zoo model name, or outlier_net")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run(args.only)
    results["seconds"] = round(time.perf_counter() - started, 1)
    text = markdown(results)
    if args.only is None:  # paths relative to the project, so the record does not depend on the checkout
        OUT_JSON.write_text(json.dumps(results, indent=2).replace(f"{ROOT}/", "") + "\n")
        OUT_MD.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
