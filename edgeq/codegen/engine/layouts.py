"""Weight layouts of the engine's CONV_2D and DEPTHWISE_CONV_2D kernels (see edgeq_kernels.h).

The kernels read the weights the way their inner loops want them, so the
generator rearranges the model's arrays once:

- CONV_2D: int8 ``[out_c][k_h][row_taps]``, each filter row (``k_w * in_c``
  taps in the order (kx, ic)) zero padded to a multiple of ``ROW_ALIGN``: in
  the int16 columns every filter row then starts a group of four taps and is
  copied as whole words (``eq_conv_row_taps``).
- DEPTHWISE_CONV_2D: int16 ``[ceil(out_c / 4)][k_h * k_w][4]``, the weights of
  four output channels tap after tap, zero padded past ``out_c``: one LDRD per
  tap and quad of channels, the lanes matching SXTAB16's split of the inputs.
- FULLY_CONNECTED keeps the model's ``[out][in]``.
"""

from __future__ import annotations

import numpy as np

ROW_ALIGN = 4  # EQ_ROW_ALIGN
WEIGHT_TAIL = 16  # EQ_WEIGHT_TAIL: bytes readable past the end of conv / FC weight arrays (zeros)
QUAD = 4  # channels per depthwise weight group


def row_taps(k_w: int, in_c: int) -> int:
    """Taps of one filter row in the CONV_2D layout: ``k_w * in_c`` rounded up to ``ROW_ALIGN``."""
    return -(-k_w * in_c // ROW_ALIGN) * ROW_ALIGN


def conv_weights(w: np.ndarray) -> np.ndarray:
    """CONV_2D weights ``[out_c, k_h, k_w, in_c]`` as the int8 ``[out_c][k_h][row_taps]`` layout."""
    out_c, k_h, k_w, in_c = w.shape
    rows = np.asarray(w, np.int8).reshape(out_c, k_h, k_w * in_c)
    padded = np.zeros((out_c, k_h, row_taps(k_w, in_c)), np.int8)
    padded[:, :, : k_w * in_c] = rows
    return padded.reshape(-1)


def depthwise_weights(w: np.ndarray) -> np.ndarray:
    """DEPTHWISE_CONV_2D weights ``[1, k_h, k_w, out_c]`` as the int16 ``[quads][taps][4]`` layout."""
    _, k_h, k_w, out_c = w.shape
    quads = -(-out_c // QUAD)
    taps = np.zeros((k_h * k_w, quads * QUAD), np.int16)
    taps[:, :out_c] = np.asarray(w, np.int8).reshape(k_h * k_w, out_c)
    return np.ascontiguousarray(taps.reshape(k_h * k_w, quads, QUAD).transpose(1, 0, 2)).reshape(-1)
