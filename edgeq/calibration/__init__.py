"""edgeq.calibration: the activation ranges an int8 model is quantized with.

Calibration methods (:mod:`edgeq.calibration.methods`: minmax, percentile, mse,
entropy), activation histograms (:mod:`edgeq.calibration.histograms`), the
ranges TFLite's calibrator recorded (:mod:`edgeq.calibration.recorded`) and
their replacement by a method's choice (:mod:`edgeq.calibration.recalibrate`),
which ``edgeq convert --calibration`` runs. This package imports nothing so
that each module stays cheap to load.
"""
