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
from types import ModuleType

from edgeq.errors import DependencyError
from edgeq.log import quiet, verbosity

INSTALL_HINT = "pip install 'edgeq[convert]' (TensorFlow is only needed to convert)"


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


__all__ = ["INSTALL_HINT", "import_tf"]
