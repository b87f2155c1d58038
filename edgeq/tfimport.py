"""Import TensorFlow quietly and keep its console noise off stdout: the one way edgeq imports TensorFlow.

TensorFlow, Keras and the MLIR converter print to the process's file
descriptors 1 and 2 (C++ logs, "Saved artifact at ..." from Keras export).
:func:`quiet` captures both descriptors while TensorFlow works so that
``--json`` output stays one clean object; with ``-v`` the capture is replayed
on stderr, and on failure its tail is attached to the debug log.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, TypeAlias

from edgeq.errors import DependencyError
from edgeq.log import quiet, verbosity

INSTALL_HINT = "pip install 'edgeq[convert]' (TensorFlow is only needed to convert)"

# TensorFlow, Keras and tensorflow-model-optimization ship no type information: their objects are Any
# to mypy. These names say, in signatures, which of them a value is.
KerasModel: TypeAlias = Any  # a keras.Model (Keras 3) or tf_keras.Model (Keras 2)
# A model to convert: a SavedModel folder, a .keras/.h5 file or a Keras model object.
ModelSource: TypeAlias = "str | Path | KerasModel"
KerasLayer: TypeAlias = Any  # a keras.layers.Layer or tf_keras.layers.Layer
KerasTensor: TypeAlias = Any  # a symbolic Keras tensor (a functional model's inputs and outputs)
KerasLoss: TypeAlias = Any  # a keras.losses.Loss object, or a loss name Keras accepts
KerasCallback: TypeAlias = Any  # a keras.callbacks.Callback
TFLiteConverter: TypeAlias = Any  # a tf.lite.TFLiteConverter
TFSavedModelProto: TypeAlias = Any  # a tensorflow.core.protobuf.saved_model_pb2.SavedModel
TFTensorInfo: TypeAlias = Any  # a SavedModel signature's meta_graph_pb2.TensorInfo
TFSchedule: TypeAlias = Any  # a tfmot pruning schedule (tfmot.sparsity.keras.PruningSchedule)


def import_tf() -> ModuleType:
    """Return the ``tensorflow`` module, imported with its logs silenced."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    if verbosity() < 1:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "3")
    try:
        with quiet():
            import tensorflow as tf
    except ImportError as exc:
        raise DependencyError(f"TensorFlow is not installed ({exc}); {INSTALL_HINT}") from exc
    tf.get_logger().setLevel("ERROR" if verbosity() < 1 else "INFO")
    with contextlib.suppress(Exception):
        tf.autograph.set_verbosity(0)
    return tf


__all__ = [
    "INSTALL_HINT",
    "KerasCallback",
    "KerasLayer",
    "KerasLoss",
    "KerasModel",
    "KerasTensor",
    "ModelSource",
    "TFLiteConverter",
    "TFSavedModelProto",
    "TFSchedule",
    "TFTensorInfo",
    "import_tf",
]
