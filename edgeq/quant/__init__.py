"""edgeq.quant: better int8 quantization than the TFLite converter alone.

The tools that work on top of the converter (:mod:`edgeq.convert`): per-layer
error analysis, mixed precision, quantization-aware training, clustering and
pruning. The calibration methods the converter itself uses live below it, in
:mod:`edgeq.calibration`. This package imports nothing so that each submodule
stays cheap to load.
"""
