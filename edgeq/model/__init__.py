"""Read .tflite models without TensorFlow: a small typed graph of tensors and operators.

Example::

    from edgeq.model import read_model
    graph = read_model("model_int8.tflite")
    for op in graph.operators:
        print(op.index, op.builtin, [graph.tensors[i].shape for i in op.outputs])

This package never imports TensorFlow; it parses the flatbuffer itself with
bounds checks on every offset, so corrupt or hostile files raise
:class:`~edgeq.errors.ModelFormatError` and nothing else.
"""

from __future__ import annotations

from edgeq.model.graph import Graph, Operator, Quantization, Tensor
from edgeq.model.reader import read_model

__all__ = ["Graph", "Operator", "Quantization", "Tensor", "read_model"]
