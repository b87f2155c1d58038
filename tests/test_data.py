"""Representative data loading: every source kind and every bad input (no TensorFlow)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from edgeq.data import load_dataset
from edgeq.data.files import check_data_path
from edgeq.data.labelled import load_labelled
from edgeq.errors import DatasetError, UsageError
from edgeq.qtypes import DataSpec

IMG = DataSpec("img", (None, 12, 12, 3))
TWO = [DataSpec("image", (None, 8, 8, 1)), DataSpec("meta", (None, 4))]


def test_npy_is_cast_to_float32_and_subsampled_reproducibly(tmp_path, rng):
    path = tmp_path / "x.npy"
    np.save(path, rng.random((500, 12, 12, 3)))  # float64 on disk
    a = load_dataset(path, [IMG], samples=100, seed=7)
    b = load_dataset(path, [IMG], samples=100, seed=7)
    c = load_dataset(path, [IMG], samples=100, seed=8)
    assert a.count == 100 and a.available == 500
    assert a.arrays["img"].dtype == np.float32
    np.testing.assert_array_equal(a.arrays["img"], b.arrays["img"])
    assert not np.array_equal(a.arrays["img"], c.arrays["img"])


def test_fewer_samples_than_asked_is_a_warning(tmp_path, rng, caplog):
    path = tmp_path / "x.npy"
    np.save(path, rng.random((30, 12, 12, 3), dtype=np.float32))
    logging.getLogger("edgeq").propagate = True
    with caplog.at_level(logging.WARNING, logger="edgeq"):
        data = load_dataset(path, [IMG], samples=200)
    assert data.count == 30
    assert "fewer than the 200 asked for" in caplog.text


@pytest.mark.parametrize(
    ("shape", "hint"),
    [
        ((10, 12, 12), "expects samples of shape (N, 12, 12, 3), got (10, 12, 12)"),
        ((12, 12, 3), "add the batch axis"),
        ((10, 3, 12, 12), "got (10, 3, 12, 12)"),
    ],
)
def test_wrong_shape_names_expected_and_got(tmp_path, shape, hint):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros(shape, np.float32))
    with pytest.raises(DatasetError, match="input img") as info:
        load_dataset(path, [IMG])
    assert hint in str(info.value)


def test_channel_axis_hint(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((5, 8, 8), np.float32))
    with pytest.raises(DatasetError, match=r"add the channel axis"):
        load_dataset(path, [DataSpec("image", (None, 8, 8, 1))])


@pytest.mark.parametrize(("bad", "word"), [(np.nan, "NaN"), (np.inf, "Inf"), (-np.inf, "Inf")])
def test_non_finite_sample_is_rejected_with_its_index(tmp_path, rng, bad, word):
    x = rng.random((50, 12, 12, 3), dtype=np.float32)
    x[17, 3, 4, 1] = bad
    x[40, 0, 0, 0] = bad
    path = tmp_path / "x.npy"
    np.save(path, x)
    with pytest.raises(DatasetError, match=rf"sample 17 of input img contains {word} \(2 bad samples in all\)"):
        load_dataset(path, [IMG], samples=10)


def test_npz_one_array_per_input_by_name(tmp_path, rng):
    path = tmp_path / "x.npz"
    np.savez(path, meta=rng.random((9, 4)), image=rng.random((9, 8, 8, 1)))
    data = load_dataset(path, TWO)
    assert list(data.arrays) == ["image", "meta"] and data.count == 9


def test_npz_missing_input_is_named(tmp_path, rng):
    path = tmp_path / "x.npz"
    np.savez(path, image=rng.random((9, 8, 8, 1)), other=rng.random((9, 4)))
    with pytest.raises(DatasetError, match=r"missing \['meta'\]"):
        load_dataset(path, TWO)


def test_npy_for_multi_input_model_is_refused(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((3, 8, 8, 1), np.float32))
    with pytest.raises(DatasetError, match="model has 2 inputs"):
        load_dataset(path, TWO)


def test_inputs_with_different_counts(tmp_path, rng):
    path = tmp_path / "x.npz"
    np.savez(path, image=rng.random((9, 8, 8, 1)), meta=rng.random((8, 4)))
    with pytest.raises(DatasetError, match="different sample counts"):
        load_dataset(path, TWO)


def _write_images(folder, count, size=(20, 16), mode="RGB"):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.new(mode, size, color=(i * 10, 255, 0) if mode == "RGB" else i * 10).save(folder / f"{i:03d}.png")


def test_image_folder_is_resized_and_normalised(tmp_path):
    _write_images(tmp_path / "imgs", 4)
    data = load_dataset(tmp_path / "imgs", [IMG], scale=2 / 255, offset=-1)
    x = data.arrays["img"]
    assert x.shape == (4, 12, 12, 3)
    np.testing.assert_allclose(x[:, 5, 5, 1], 1.0, atol=1e-6)  # green 255 -> +1
    np.testing.assert_allclose(x[:, 5, 5, 2], -1.0, atol=1e-6)  # blue 0 -> -1
    np.testing.assert_allclose(x[2, 5, 5, 0], 20 * 2 / 255 - 1, atol=1e-5)


def test_corrupt_image_is_named(tmp_path):
    _write_images(tmp_path / "imgs", 2)
    (tmp_path / "imgs" / "bad.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match=r"bad\.png is not a readable image"):
        load_dataset(tmp_path / "imgs", [IMG])


def test_module_function_source(tmp_path, monkeypatch):
    (tmp_path / "calib_mod.py").write_text(
        "import numpy as np\n"
        "def samples():\n"
        "    rng = np.random.default_rng(0)\n"
        "    for _ in range(7):\n"
        "        yield rng.random((12, 12, 3))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    data = load_dataset("calib_mod:samples", [IMG])
    assert data.count == 7 and data.arrays["img"].dtype == np.float32


def test_callable_yielding_dicts_for_two_inputs(rng):
    def gen():
        for _ in range(5):
            yield {"image": rng.random((8, 8, 1)), "meta": rng.random(4)}

    data = load_dataset(gen, TWO)
    assert data.arrays["meta"].shape == (5, 4)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.npy", None, "no such file or folder"),
        ("x.csv", b"1,2,3", "unsupported data file '.csv'"),
        ("x.npy", b"garbage", r"x\.npy is not an \.npy file \(numpy\.save format; this file starts with b'garbage'\)"),
        ("x.npz", b"garbage", r"x\.npz is not an \.npz file \(numpy\.savez format"),
        ("x.npy", b"", r"x\.npy is not an \.npy file \(numpy\.save format; this file is empty\)"),
    ],
)
def test_bad_files(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DatasetError, match=message):
        load_dataset(path, [IMG])


def test_bad_module_spec():
    with pytest.raises(DatasetError, match="cannot load data function 'no_such_module_xyz:f'"):
        load_dataset("no_such_module_xyz:f", [IMG])


def test_string_data_is_refused(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.array([["a"] * 3] * 2))
    with pytest.raises(DatasetError, match="expected numbers"):
        load_dataset(path, [DataSpec("x", (None, 3))])


def test_labelled_npz_and_one_hot(tmp_path, rng):
    path = tmp_path / "test.npz"
    y = np.eye(3)[[0, 2, 1, 2]]
    np.savez(path, x=rng.random((4, 12, 12, 3)), y=y)
    inputs, labels, _ = load_labelled(path, [IMG])
    assert inputs["img"].shape == (4, 12, 12, 3)
    np.testing.assert_array_equal(labels, [0, 2, 1, 2])


def test_labelled_class_folders(tmp_path):
    _write_images(tmp_path / "data" / "cat", 2)
    _write_images(tmp_path / "data" / "dog", 3)
    inputs, labels, classes = load_labelled(tmp_path / "data", [IMG])
    assert classes == ["cat", "dog"]
    np.testing.assert_array_equal(labels, [0, 0, 1, 1, 1])
    assert inputs["img"].shape == (5, 12, 12, 3)


def test_label_count_mismatch(tmp_path, rng):
    path = tmp_path / "test.npz"
    np.savez(path, x=rng.random((4, 12, 12, 3)), y=np.arange(3))
    with pytest.raises(DatasetError, match="3 labels for 4 samples"):
        load_labelled(path, [IMG])


def test_npy_of_python_objects_is_named(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(DatasetError, match=r"x\.npy holds Python objects, not numbers"):
        load_dataset(path, [IMG])


def test_held_out_samples_are_disjoint_and_leave_the_calibration_draw_alone(tmp_path, rng):
    path = tmp_path / "x.npy"
    x = rng.random((80, 12, 12, 3), dtype=np.float32)
    np.save(path, x)
    plain = load_dataset(path, [IMG], samples=50, seed=4)
    data = load_dataset(path, [IMG], samples=50, seed=4, held_out=40)
    np.testing.assert_array_equal(plain.arrays["img"], data.arrays["img"])
    assert len(data.held_out_indices) == 30 and not set(data.held_out_indices) & set(data.indices)
    np.testing.assert_array_equal(data.held_out["img"], x[list(data.held_out_indices)])
    np.testing.assert_array_equal(data.arrays["img"], x[list(data.indices)])
    assert load_dataset(path, [IMG], samples=50, seed=4, held_out=10).held_out_indices != ()
    everything = load_dataset(path, [IMG], samples=80, held_out=32)
    assert everything.held_out == {} and everything.indices == tuple(range(80))


@pytest.mark.parametrize(
    ("make", "kwargs", "error", "message"),
    [
        (None, {}, DatasetError, r"-d .*nothing: no such file or folder"),
        ("empty_dir", {}, DatasetError, r"holds no images .* and no \.bin files"),
        ("text.npy", {}, DatasetError, r"text\.npy is not an \.npy file"),
        ("text.npz", {}, DatasetError, r"text\.npz is not an \.npz file"),
        ("x.txt", {}, DatasetError, r"unsupported data file '\.txt'"),
        ("text.npy", {"bins_only": True}, UsageError, r"--bin-dtype reads \.bin files, but -d .* is a file"),
        ("empty_dir", {"bins_only": True}, UsageError, r"--bin-dtype reads \.bin files, but -d .* holds none"),
    ],
)
def test_data_path_is_checked_without_reading_it_whole(tmp_path, make, kwargs, error, message):
    path = tmp_path / (make or "nothing")
    if make == "empty_dir":
        path.mkdir()
    elif make:
        path.write_text("1, 2, 3\n")
    with pytest.raises(error, match=message):
        check_data_path(str(path), **kwargs)


def test_data_path_check_passes_good_sources(tmp_path, rng):
    np.save(tmp_path / "x.npy", rng.random((2, 3)))
    np.savez(tmp_path / "x.npz", x=rng.random((2, 3)))
    (tmp_path / "bins").mkdir()
    (tmp_path / "bins" / "0.bin").write_bytes(rng.random(3, dtype=np.float32).tobytes())
    for source in ("x.npy", "x.npz", "bins"):
        check_data_path(tmp_path / source)
    check_data_path(tmp_path / "bins", bins_only=True)
    check_data_path("some_module:samples")
    check_data_path(None)
