"""The host side of the MLPerf Tiny / EEMBC DUT serial protocol.

- :mod:`~edgeq.serialdut.parse`: pure parsers, received bytes -> lines -> typed replies
- :mod:`~edgeq.serialdut.link`: the serial line link (send, receive, deadlines)
- :mod:`~edgeq.serialdut.client`: :class:`DutClient`, one method per protocol command
- :mod:`~edgeq.serialdut.outputs`: model tensors <-> the bytes and floats a DUT exchanges
- :mod:`~edgeq.serialdut.dataset`: MLPerf Tiny datasets (their metrics, top-1 accuracy
  and ROC AUC, are in :mod:`edgeq.metrics`)

The ``serial`` target (:mod:`edgeq.targets.serial`) runs models through these.
"""

from __future__ import annotations

from edgeq.serialdut.client import DutClient
from edgeq.serialdut.dataset import MlperfDataset, MlperfSample, load_mlperf_dataset
from edgeq.serialdut.link import DeviceRefusedError, DeviceStoppedError
from edgeq.serialdut.parse import InferResult, Profile

__all__ = [
    "DeviceRefusedError",
    "DeviceStoppedError",
    "DutClient",
    "InferResult",
    "MlperfDataset",
    "MlperfSample",
    "Profile",
    "load_mlperf_dataset",
]
