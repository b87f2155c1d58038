"""Weight clustering and pruning (tfmot) before the int8 conversion: shared values, sparsity, gzip size, errors."""

from __future__ import annotations

import importlib.util
import json

import click
import numpy as np
import pytest
from click.testing import CliRunner

from edgeq.errors import UsageError

from ..conftest import MODELS

pytestmark = pytest.mark.slow
# find_spec, not importorskip: importing tfmot at collection would set TF_USE_LEGACY_KERAS=1 for every later test
if importlib.util.find_spec("tensorflow_model_optimization") is None:
    pytest.skip("tensorflow-model-optimization is not installed", allow_module_level=True)


def mlp(width: int = 96):
    """A tf-keras MLP 16 -> width -> width -> 3 with seeded random weights (about 12k kernel weights)."""
    import tf_keras

    tf_keras.utils.set_random_seed(5)
    inputs = tf_keras.Input((16,), name="features")
    hidden = tf_keras.layers.Dense(width, activation="relu", name="fc1")(inputs)
    hidden = tf_keras.layers.Dense(width, activation="relu", name="fc2")(hidden)
    return tf_keras.Model(inputs, tf_keras.layers.Dense(3, activation="softmax", name="head")(hidden), name="mlp")


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compress-data")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 16)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    np.savez(folder / "train.npz", x=x[:64], y=y[:64])
    np.savez(folder / "eval.npz", x=x[64:], y=y[64:])
    np.save(folder / "calib.npy", x[:32])
    return folder


def test_clustering_leaves_at_most_k_values_per_kernel(sets):
    from edgeq.quant.compress import cluster_model, kernel_stats

    model = mlp()
    before = [w.copy() for w in model.get_weights()]
    clustered = cluster_model(model, 6, sets / "train.npz", epochs=1)
    stats = kernel_stats(clustered)
    assert set(stats) == {"fc1", "fc2", "head"}
    for layer in ("fc1", "fc2", "head"):
        assert stats[layer]["unique"] <= 6
        assert len(np.unique(clustered.get_layer(layer).kernel.numpy())) <= 6
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "the input model was modified"


def test_clustering_without_data_and_on_a_keras3_model():
    from edgeq.quant.compress import cluster_model, kernel_stats

    clustered = cluster_model(MODELS / "tiny_cnn.keras", 4, init="linear")
    stats = kernel_stats(clustered)
    assert stats["conv"]["unique"] <= 4 and stats["head"]["unique"] <= 4
    assert stats["dw"]["unique"] > 4  # tfmot does not cluster depthwise kernels
    wide = kernel_stats(cluster_model(MODELS / "tiny_cnn.keras", 40))
    assert wide["conv"]["unique"] <= 40 and wide["head"]["unique"] == 32  # 32 weights <= k: left alone


@pytest.mark.parametrize("schedule", ["polynomial", "constant"])
def test_pruning_reaches_the_target_sparsity(sets, schedule):
    from edgeq.quant.compress import kernel_stats, prune_model

    pruned = prune_model(mlp(), 0.6, sets / "train.npz", epochs=2, schedule=schedule)
    for layer, stat in kernel_stats(pruned).items():
        assert stat["sparsity"] >= 0.59, (layer, stat)


def test_one_shot_pruning_zeroes_the_smallest_weights():
    from edgeq.quant.compress import prune_model

    model = mlp()
    kernel = model.get_layer("fc2").kernel.numpy()
    pruned = prune_model(model, 0.5).get_layer("fc2").kernel.numpy()
    assert np.mean(pruned == 0) == pytest.approx(0.5, abs=1e-3)
    kept = np.abs(kernel[pruned != 0])
    assert kept.min() >= np.abs(kernel[pruned == 0]).max()


def test_gzip_size():
    from edgeq.quant.compress import gzip_size

    noise = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    assert gzip_size(bytes(4096)) < 100 < 4000 < gzip_size(noise)
    assert gzip_size(noise) == gzip_size(noise)


def _wired_command():
    """`edgeq convert`-shaped command built from the helpers in edgeq.cli.conversion."""
    from edgeq.cli.common import edgeq_errors, json_option
    from edgeq.cli.conversion import compression_options, convert_compressed_command
    from edgeq.convert import ConvertOptions

    @click.command()
    @click.argument("model")
    @click.option("-d", "--data")
    @click.option("-o", "--output")
    @click.option("--eval-data")
    @compression_options
    @json_option
    @edgeq_errors
    def convert(model, data, output, eval_data, as_json, **compress):
        opts = ConvertOptions(samples=32, check_samples=0)
        convert_compressed_command(model, data, output, opts, as_json=as_json, eval_data=eval_data, **compress)

    return convert


def test_cluster_option_shrinks_the_gzip_size_and_reports_accuracy(sets, tmp_path):
    from edgeq.model import read_model

    model_path = tmp_path / "mlp.keras"
    mlp(128).save(model_path)
    out = tmp_path / "mlp_k8.tflite"
    args = [str(model_path), "-d", str(sets / "calib.npy"), "-o", str(out), "--cluster", "8"]
    result = CliRunner().invoke(_wired_command(), [*args, "--eval-data", str(sets / "eval.npz"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.with_suffix(".json").read_text())
    section = report["compression"]
    assert section["cluster"] == 8 and section["kernels"]["fc2"]["unique"] <= 8
    assert section["bytes"]["plain"] == out.stat().st_size
    assert section["bytes"]["gzip"] < 0.8 * section["uncompressed_bytes"]["gzip"]
    assert set(section["accuracy"]) >= {"float", "int8", "compressed_int8", "samples"}
    assert {t.dtype for t in read_model(out).tensors} <= {"int8", "int32"}


def test_prune_and_cluster_text_report(sets, tmp_path):
    out = tmp_path / "both.tflite"
    args = [str(MODELS / "tiny_cnn.keras"), "-o", str(out), "--prune", "0.5", "--cluster", "4"]
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "img.npz", x=rng.random((24, 12, 12, 3), dtype=np.float32), y=rng.integers(0, 4, 24))
    extra = ["-d", str(tmp_path / "img.npz"), "--train-data", str(tmp_path / "img.npz"), "--fine-tune-epochs", "1"]
    result = CliRunner().invoke(_wired_command(), [*args, *extra])
    assert result.exit_code == 0, result.output
    assert "compression (cluster 4, prune 0.5):" in result.output and "gzip" in result.output
    kernels = json.loads(out.with_suffix(".json").read_text())["compression"]["kernels"]
    assert kernels["conv"]["sparsity"] >= 0.49 and kernels["conv"]["unique"] <= 4


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--cluster", "1"], "--cluster 1: give at least 2 clusters"),
        (["--prune", "0"], "--prune 0.0: sparsity must be between 0 and 1"),
        (["--prune", "1.5"], "--prune 1.5: sparsity must be between 0 and 1"),
        (["--prune", "0.5", "--cluster", "2"], "--cluster 2: give at least 3 clusters"),
        (["--cluster", "4", "--fine-tune-epochs", "0"], "--fine-tune-epochs 0 must be at least 1"),
    ],
)
def test_bad_values_give_one_line(sets, tmp_path, extra, message):
    args = [str(MODELS / "tiny_cnn.keras"), "-d", str(sets / "calib.npy"), "-o", str(tmp_path / "m.tflite"), *extra]
    result = CliRunner().invoke(_wired_command(), args)
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {message}")
    assert not (tmp_path / "m.tflite").exists()


def test_library_validation():
    from edgeq.quant.compress import CompressOptions, cluster_model, prune_model

    with pytest.raises(UsageError, match="give --cluster K and/or --prune"):
        CompressOptions()
    with pytest.raises(UsageError, match="--cluster 1"):
        cluster_model(MODELS / "tiny_cnn.keras", 1)
    with pytest.raises(UsageError, match="--prune 1.0"):
        prune_model(MODELS / "tiny_cnn.keras", 1.0)
    with pytest.raises(UsageError, match="--cluster-init 'kmeans'"):
        cluster_model(MODELS / "tiny_cnn.keras", 4, init="kmeans")
