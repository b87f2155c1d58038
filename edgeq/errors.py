"""One error hierarchy for edgeq.

Every error a user can cause derives from :class:`EdgeqError`. The CLI prints
``error: <message>`` on one line and exits with :attr:`EdgeqError.exit_code`;
anything else is a bug and keeps its traceback.

Messages name the bad value and what to do about it, e.g.::

    raise DatasetError("sample 17 of calib.npy contains NaN; clean or drop it")
"""

from __future__ import annotations


class EdgeqError(Exception):
    """Base of all user-facing edgeq errors.

    Subclasses may set ``template`` and pass keyword arguments; the message is
    ``template.format(**kwargs)``. A plain positional message also works.
    """

    exit_code = 1
    template = "{message}"

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        if message is None:
            message = self.template.format(**kwargs)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(EdgeqError):
    """A bad option value or combination of options."""

    exit_code = 2


class ModelFormatError(EdgeqError):
    """A model file that cannot be read (corrupt, truncated, wrong format)."""


class ModelLoadError(EdgeqError):
    """A TensorFlow model (SavedModel, .keras, .h5) that cannot be loaded."""


class DatasetError(EdgeqError):
    """Representative or evaluation data that does not fit the model."""


class ConversionError(EdgeqError):
    """The converter failed or produced a model that breaks the requested mode."""


class UnsupportedError(EdgeqError):
    """A feature, op or target edgeq does not support (yet)."""


class DependencyError(EdgeqError):
    """An optional dependency is missing; the message says what to install."""


class DeviceError(EdgeqError):
    """A device that cannot be opened, stops answering or reports an error (serial boards, emulators)."""


class MeasurementError(EdgeqError):
    """A measurement that cannot give a number: no samples in the window, no timestamp edges, a bad trace."""
