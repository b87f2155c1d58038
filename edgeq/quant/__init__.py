"""edgeq.quant: better int8 quantization than the TFLite converter alone.

Calibration methods (:mod:`edgeq.quant.calibration`), activation histograms
(:mod:`edgeq.quant.histograms`) and the other quantization tools live in
submodules; this package imports nothing so that each stays cheap to load.
"""
