"""Load a TensorFlow model (SavedModel folder, .keras, .h5) for conversion.

Keras files load with Keras 3 first and fall back to tf-keras, which reads
Keras-2-era files that Keras 3 rejects (e.g. DepthwiseConv2D configs with a
``groups`` key). SavedModels are never loaded into Python objects: their input
signature is read from ``saved_model.pb`` and the conversion goes through
``TFLiteConverter.from_saved_model``, which also accepts SavedModels written by
older TF releases that ``tf.saved_model.load`` rejects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from edgeq.errors import ModelLoadError
from edgeq.log import logger, quiet
from edgeq.qtypes import DataSpec
from edgeq.tfimport import KerasModel, KerasTensor, ModelSource, TFSavedModelProto, TFTensorInfo, import_tf


@dataclass(frozen=True)
class LoadedModel:
    """A model ready for conversion.

    Attributes:
        source: the path given by the user (or "<keras model>").
        kind: "savedmodel", "keras" or "h5".
        inputs: the model's inputs in the order the converter feeds them.
        keras_model: the Keras model object (None for SavedModels).
        keras_flavour: "keras3" or "tf_keras" (None for SavedModels).
        layer_names: names of the Keras layers, to map TFLite ops back to layers.
        signature_key: the SavedModel signature converted.
    """

    source: str
    kind: str
    inputs: tuple[DataSpec, ...]
    keras_model: KerasModel = None
    keras_flavour: str | None = None
    layer_names: tuple[str, ...] = ()
    signature_key: str | None = None


def load_model(model: ModelSource) -> LoadedModel:
    """Load ``model`` (a path, or an in-memory Keras model) and read its input signature."""
    if not isinstance(model, (str, Path)):
        return _from_keras_object(model, "<keras model>", _flavour_of(model), "keras")
    path = Path(model)
    if not path.exists():
        raise ModelLoadError(f"{path}: no such file or folder")
    if path.is_dir():
        return _load_saved_model(path)
    suffix = path.suffix.lower()
    if suffix in (".keras", ".h5", ".hdf5"):
        kind = "keras" if suffix == ".keras" else "h5"
        check_keras_file(path, kind)
        return _load_keras_file(path, kind)
    if suffix == ".tflite":
        raise ModelLoadError(
            f"{path} is already a .tflite model; convert the original TensorFlow model "
            "(SavedModel folder, .keras or .h5)"
        )
    raise ModelLoadError(
        f"{path}: unknown model format {suffix or '(no extension)'!r}; "
        "expected a SavedModel folder, a .keras file or an .h5 file"
    )


ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def check_keras_file(path: Path, kind: str) -> None:
    """ModelLoadError unless ``path`` is readable and has the signature of its kind (zip or HDF5)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            hdf5 = head == HDF5_MAGIC or _hdf5_userblock(f)
    except OSError as exc:
        raise ModelLoadError(f"cannot read {path} ({exc.strerror or exc}); check its permissions") from None
    shown = "it is empty" if not head else f"it starts with {head!r}"
    if kind == "keras" and not head.startswith(ZIP_MAGIC):
        hint = "; it is an HDF5 file: rename it to .h5" if hdf5 else ""
        raise ModelLoadError(
            f"{path} is not a Keras file: a .keras file is a zip archive written by model.save('name.keras') "
            f"({shown}){hint}"
        )
    if kind == "h5" and not hdf5:
        hint = "; it is a zip archive: rename it to .keras" if head.startswith(ZIP_MAGIC) else ""
        raise ModelLoadError(
            f"{path} is not an HDF5 Keras file: an .h5 file is written by model.save('name.h5') ({shown}){hint}"
        )


def _hdf5_userblock(f: Any) -> bool:
    """HDF5 files may start with a user block of 512, 1024, 2048, ... bytes before the signature."""
    offset = 512
    while True:
        f.seek(offset)
        head = f.read(8)
        if len(head) < 8:
            return False
        if head == HDF5_MAGIC:
            return True
        offset *= 2


def _load_keras_file(path: Path, kind: str) -> LoadedModel:
    import_tf()
    errors = []
    for flavour in ("keras3", "tf_keras"):
        try:
            with quiet():
                module = _keras_module(flavour)
                obj = module.models.load_model(str(path), compile=False)
        except Exception as exc:  # noqa: BLE001 - every loader failure is reported below
            errors.append(f"{flavour}: {_first_line(exc)}")
            logger.debug("loading %s with %s failed: %s", path, flavour, exc)
            continue
        if flavour == "tf_keras":
            logger.info("%s loaded with tf-keras (Keras 2 format)", path.name)
        return _from_keras_object(obj, str(path), flavour, kind)
    raise ModelLoadError(f"cannot load {path}: " + "; ".join(errors))


def _keras_module(flavour: str) -> ModuleType:
    if flavour == "keras3":
        import keras

        return keras
    try:
        import tf_keras
    except ImportError as exc:
        raise ModelLoadError(f"tf-keras is not installed ({exc}); pip install tf-keras") from exc
    return tf_keras


def _flavour_of(obj: KerasModel) -> str:
    module = type(obj).__module__
    return "tf_keras" if module.startswith("tf_keras") else "keras3"


def _from_keras_object(obj: KerasModel, source: str, flavour: str, kind: str) -> LoadedModel:
    if not hasattr(obj, "inputs") or not hasattr(obj, "layers"):
        raise ModelLoadError(f"{source} is not a Keras model (got {type(obj).__name__})")
    if not obj.inputs:
        raise ModelLoadError(
            f"{source} has no defined inputs (a subclassed model never called?); "
            "build it with keras.Input or call it on data once before saving"
        )
    specs = tuple(_keras_input_spec(t, i) for i, t in enumerate(obj.inputs))
    layers = tuple(layer.name for layer in obj.layers)
    return LoadedModel(source, kind, specs, obj, flavour, layers)


def _keras_input_spec(tensor: KerasTensor, index: int) -> DataSpec:
    shape = tuple(None if d is None else int(d) for d in tensor.shape)
    name = getattr(tensor, "name", None) or f"input_{index}"
    name = name.split(":")[0]
    dtype = getattr(tensor, "dtype", "float32")
    return DataSpec(name, shape, getattr(dtype, "name", str(dtype)))


def _load_saved_model(path: Path) -> LoadedModel:
    pb = path / "saved_model.pb"
    if not pb.is_file():
        hint = " (a .pbtxt SavedModel? re-save it in binary form)" if (path / "saved_model.pbtxt").exists() else ""
        raise ModelLoadError(f"{path} is a folder without saved_model.pb; pass a SavedModel folder{hint}")
    tf = import_tf()
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    try:
        proto.ParseFromString(pb.read_bytes())
    except Exception as exc:  # noqa: BLE001 - protobuf raises DecodeError and others
        raise ModelLoadError(f"{pb} is corrupt ({_first_line(exc)}); re-export the SavedModel") from exc
    key, signature = _pick_signature(proto, path)
    specs = tuple(_tensor_info_spec(tf, name, info) for name, info in sorted(signature.inputs.items()))
    return LoadedModel(str(path), "savedmodel", specs, signature_key=key)


def _pick_signature(proto: TFSavedModelProto, path: Path) -> tuple[str, Any]:
    serving = [mg for mg in proto.meta_graphs if "serve" in mg.meta_info_def.tags]
    metas = serving or list(proto.meta_graphs)
    if not metas:
        raise ModelLoadError(f"{path}/saved_model.pb holds no meta graph; re-export the SavedModel")
    signatures = dict(metas[0].signature_def)
    signatures.pop("__saved_model_init_op", None)
    if "serving_default" in signatures:
        return "serving_default", signatures["serving_default"]
    if len(signatures) == 1:
        return next(iter(signatures.items()))
    names = ", ".join(sorted(signatures)) or "none"
    raise ModelLoadError(
        f"{path} has no 'serving_default' signature (signatures: {names}); export the model with one serving signature"
    )


def _tensor_info_spec(tf: ModuleType, name: str, info: TFTensorInfo) -> DataSpec:
    dims = info.tensor_shape.dim
    shape = tuple(None if d.size < 0 else int(d.size) for d in dims)
    if info.tensor_shape.unknown_rank:
        shape = ()
    return DataSpec(name, shape, tf.dtypes.as_dtype(info.dtype).name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
