"""edgeq: from a trained TensorFlow model to a measured deployment on edge hardware.

The Python API mirrors the command line::

    import edgeq
    report = edgeq.convert("model.keras", "calib.npy", "model_int8.tflite")
    info = edgeq.inspect("model_int8.tflite")
    result = edgeq.evaluate("model.keras", "model_int8.tflite", "test.npz")

Imports are lazy: ``import edgeq`` does not import TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute)
_LAZY = {
    "inspect": ("edgeq.model.analysis", "inspect_model"),
    "read_model": ("edgeq.model", "read_model"),
    "evaluate": ("edgeq.evaluation", "evaluate"),
    "generate": ("edgeq.codegen", "generate"),
    "EdgeqError": ("edgeq.errors", "EdgeqError"),
}

__all__ = ["__version__", "convert", *_LAZY]


def __getattr__(name: str) -> Any:
    if name == "convert":
        # The stage package edgeq.convert is itself callable: edgeq.convert(model, data, out).
        return importlib.import_module("edgeq.convert")
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'edgeq' has no attribute {name!r}")
