"""``edgeq run`` on an MLPerf Tiny dataset folder: .bin files + y_labels.csv -> accuracy or AUC."""

from __future__ import annotations

import json

import numpy as np
from sklearn.metrics import roc_auc_score

from edgeq.batch_run import run
from tests.conftest import FIXTURES

KWS = FIXTURES / "zoo" / "kws_dscnn" / "int8.tflite"
AD = FIXTURES / "zoo" / "ad_autoencoder" / "int8.tflite"


def _write(folder, files: dict[str, bytes], rows: list[str]) -> None:
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "y_labels.csv").write_text("\n".join(rows) + "\n")


def test_classifier_folder_reports_top1_accuracy(cli, tmp_path):
    rng = np.random.default_rng(5)
    x = rng.integers(-128, 128, (12, 49, 10, 1), dtype=np.int8)
    predicted = run(KWS, "host", [x]).outputs[0].argmax(axis=1)
    labels = predicted.copy()
    labels[:4] = (labels[:4] + 1) % 12  # 8 of 12 right
    files = {f"s{i:02d}.bin": x[i].tobytes() for i in range(12)}
    _write(tmp_path / "kws01", files, [f"s{i:02d}.bin, 12, {labels[i]}" for i in range(12)])
    out = cli(
        "run", str(KWS), "--target", "host", "--input", str(tmp_path / "kws01"), "-o", str(tmp_path / "o.npy"), "--json"
    )
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["metric"] == "top1_accuracy" and report["value"] == 8 / 12 and report["files"] == 12
    assert np.load(tmp_path / "o.npy").shape == (12, 12)


def test_anomaly_folder_reports_auc_over_files(cli, tmp_path):
    rng = np.random.default_rng(6)
    files, rows, windows = {}, [], []
    for i in range(8):
        data = rng.integers(-128, 128, 640 * 3, dtype=np.int8)
        if i % 2:
            data[::7] = 127  # some structure the autoencoder reconstructs differently
        files[f"m{i}.bin"] = data.tobytes()
        rows.append(f"m{i}.bin, 2, {i % 2}, 640, 640")
        windows.append(data.reshape(3, 640))
    _write(tmp_path / "ad01", files, rows)
    out = cli(
        "run", str(AD), "--target", "host", "--input", str(tmp_path / "ad01"), "-o", str(tmp_path / "o.npy"), "--json"
    )
    assert out.exit_code == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["metric"] == "roc_auc" and report["samples"] == 24 and report["files"] == 8
    # the same score computed independently
    recon = run(AD, "host", [np.concatenate(windows)]).outputs[0].astype(np.float64)
    from edgeq.model import read_model

    graph = read_model(AD.read_bytes())
    qi, qo = graph.input_tensors[0].quantization, graph.output_tensors[0].quantization
    real_in = (np.concatenate(windows).astype(np.float64) - qi.zero_point[0]) * qi.scale[0]
    real_out = (recon - qo.zero_point[0]) * qo.scale[0]
    per_file = ((real_in - real_out) ** 2).mean(axis=1).reshape(8, 3).mean(axis=1)
    assert report["value"] == roc_auc_score([i % 2 for i in range(8)], per_file)


def test_file_of_the_wrong_size_names_file_and_sizes(cli, tmp_path):
    _write(tmp_path / "bad", {"a.bin": b"\x00" * 10}, ["a.bin, 12, 3"])
    out = cli("run", str(KWS), "--target", "host", "--input", str(tmp_path / "bad"), "-o", str(tmp_path / "o.npy"))
    assert out.exit_code != 0 and "a.bin has 10 bytes" in out.stderr
    assert not (tmp_path / "o.npy").exists()


def test_folder_without_labels_is_a_clear_error(cli, tmp_path):
    (tmp_path / "plain").mkdir()
    out = cli("run", str(KWS), "--target", "host", "--input", str(tmp_path / "plain"), "-o", str(tmp_path / "o.npy"))
    assert out.exit_code != 0 and "y_labels.csv" in out.stderr


KWS_FLOAT = FIXTURES / "zoo" / "kws_dscnn" / "float.tflite"


def _kws_folder(tmp_path, name, rng, encode):
    """12 KWS-shaped int8 samples written by ``encode(q) -> bytes``; returns (folder, q)."""
    q = rng.integers(-100, 100, (12, 49, 10, 1), dtype=np.int8)
    files = {f"s{i:02d}.bin": encode(q[i]) for i in range(12)}
    _write(tmp_path / name, files, [f"s{i:02d}.bin, 12, {i % 12}" for i in range(12)])
    return tmp_path / name, q


def _run_folder(cli, tmp_path, model, folder, *extra):
    out = tmp_path / f"{folder.name}.npy"
    result = cli("run", str(model), "--target", "host", "--input", str(folder), "-o", str(out), "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return np.load(out)


def test_float32_files_and_dequantized_files_mean_the_same_values(cli, tmp_path):
    from edgeq.model import read_model

    quant = read_model(KWS.read_bytes()).input_tensors[0].quantization
    scale, zero = quant.scale[0], quant.zero_point[0]
    rng = np.random.default_rng(8)
    raw_folder, q = _kws_folder(tmp_path, "raw", rng, lambda a: a.tobytes())
    real = lambda a: ((a.astype(np.float32) - zero) * scale).astype("<f4").tobytes()  # noqa: E731
    float_folder, _ = _kws_folder(tmp_path, "float", np.random.default_rng(8), real)
    raw = _run_folder(cli, tmp_path, KWS, raw_folder)
    assert np.array_equal(raw, run(KWS, "host", [q]).outputs[0])
    assert np.array_equal(_run_folder(cli, tmp_path, KWS, float_folder), raw)
    own = ("--bin-dtype", "int8", "--bin-scale", repr(float(scale)), "--bin-zero-point", str(zero))
    assert np.array_equal(_run_folder(cli, tmp_path, KWS, raw_folder, *own), raw)
    # files quantized for another model: dequantized with their own parameters, requantized by this model
    other = ("--bin-dtype", "int8", "--bin-scale", "0.125", "--bin-zero-point", "-4")
    expected = run(KWS, "host", [(q.astype(np.float32) + 4) * 0.125]).outputs[0]
    assert np.array_equal(_run_folder(cli, tmp_path, KWS, raw_folder, *other), expected)


def test_float_model_refuses_one_byte_files_without_their_quantization(cli, tmp_path):
    from edgeq.model import read_model

    folder, q = _kws_folder(tmp_path, "kws01", np.random.default_rng(9), lambda a: a.tobytes())
    out = cli("run", str(KWS_FLOAT), "--target", "host", "--input", str(folder), "-o", str(tmp_path / "o.npy"))
    assert out.exit_code == 1 and "--bin-dtype int8|uint8 --bin-scale S --bin-zero-point Z" in out.stderr
    assert "s00.bin has 490 bytes, one per element of input" in out.stderr and not (tmp_path / "o.npy").exists()
    quant = read_model(KWS.read_bytes()).input_tensors[0].quantization
    own = (
        "--bin-dtype",
        "int8",
        "--bin-scale",
        repr(float(quant.scale[0])),
        "--bin-zero-point",
        str(quant.zero_point[0]),
    )
    floats = _run_folder(cli, tmp_path, KWS_FLOAT, folder, *own)
    ints = _run_folder(cli, tmp_path, KWS, folder)
    assert np.mean(floats.argmax(1) == ints.argmax(1)) >= 0.9
