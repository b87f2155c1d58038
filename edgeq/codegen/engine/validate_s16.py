"""Which ops the engine runs on int16 activations (int16x8 models), checked before anything is planned.

int16x8 models (``edgeq convert --mode int16x8``) have int16 activations with
zero point 0, int8 weights and int64 biases. The engine has int16 kernels for
the ops in :data:`INT16_OPS` (lowered by ``lower_s16`` and
``lower_s16_elementwise``, ``lower_s16_nonlinear``); reshape-like ops only move bytes and take any
dtype. Any other op that reads or writes an int16 tensor is refused here, in
one line naming the op, its index and the tensor.
"""

from __future__ import annotations

from edgeq.codegen.engine.operands import ALIAS_OPS, describe
from edgeq.errors import UnsupportedError
from edgeq.model import Operator, Tensor

INT16_KERNEL_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "MUL", "LOGISTIC", "TANH", "SOFTMAX")
INT16_OPS = frozenset((*INT16_KERNEL_OPS, *ALIAS_OPS))


def check_int16(op: Operator, tensors: list[Tensor]) -> None:
    """UnsupportedError when ``op`` has no int16 kernel but its input or output activation is int16.

    Only the op's first input and its outputs count: an int8 op may keep int16 state of its own
    (the int8 LSTM's cell state), which its int8 kernel handles.
    """
    if op.builtin in INT16_OPS:
        return
    for t in tensors:
        if t.dtype == "int16" and not t.is_constant and (t.index in op.outputs or t.index == op.inputs[0]):
            raise UnsupportedError(
                f"the edgeq engine has no int16 kernel for {op.builtin} (op {op.index}), which reads or writes "
                f"int16 {describe(t)}; its int16x8 ops are {', '.join(INT16_KERNEL_OPS)}; use --format tflm"
            )
