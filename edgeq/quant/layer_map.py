"""Map TFLite tensor names back to the Keras layers they came from.

A converted model names each op's output after the TensorFlow ops the
converter fused into it, joined by ``;``, each a scope path::

    ic_resnet8_1/activation_7_1/Relu;ic_resnet8_1/batch_normalization_7_1/batchnorm/add_1;
    ic_resnet8_1/conv2d_9_1/convolution;...

The first path component is the model, the second the layer. Keras 3 adds a
``_N`` suffix to every scope (``conv2d_9`` becomes ``conv2d_9_1``), tf-keras
does not, so a layer named ``conv2d_1`` is ambiguous between the two unless the
Keras flavour is known. Ops that fuse several layers (conv + batch norm + ReLU)
map to all of them, in model order; the first is the op's main layer. Ops with
no layer in their name (the model's final output is named after the signature,
``StatefulPartitionedCall_1:0``) map to none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from edgeq.litert import signature_name

if TYPE_CHECKING:
    from edgeq.convert.loader import LoadedModel

_SUFFIX = re.compile(r"_\d+$")


class LayerMap:
    """Finds the Keras layers named in TFLite tensor names.

    Args:
        layer_names: the Keras model's layer names in model order (empty: no Keras model).
        keras3: names were traced by Keras 3 (scopes carry a ``_N`` suffix).
    """

    def __init__(self, layer_names: Sequence[str], keras3: bool = True) -> None:
        self.order = {name: i for i, name in enumerate(layer_names)}
        self.keras3 = keras3

    @classmethod
    def from_loaded(cls, loaded: LoadedModel) -> LayerMap:
        """The map of an :class:`edgeq.convert.loader.LoadedModel` (empty for SavedModels)."""
        return cls(loaded.layer_names, keras3=loaded.keras_flavour != "tf_keras")

    def layers(self, tensor_name: str) -> tuple[str, ...]:
        """Keras layers named in ``tensor_name``, in model order (empty when none)."""
        found: set[str] = set()
        for path in tensor_name.split(";"):
            layer = self._layer_of_path(path)
            if layer is not None:
                found.add(layer)
        return tuple(sorted(found, key=self.order.__getitem__))

    def input_layer(self, tensor_name: str) -> str | None:
        """The Keras input layer of a model input tensor such as ``serving_default_image:0``."""
        bare = signature_name(tensor_name)
        return bare if bare in self.order else None

    def _layer_of_path(self, path: str) -> str | None:
        parts = path.split("/")
        for component in parts[1:-1] or parts[:1]:
            layer = self._match(component)
            if layer is not None:
                return layer
        return None

    def _match(self, component: str) -> str | None:
        stripped = _SUFFIX.sub("", component)
        for candidate in (stripped, component) if self.keras3 else (component, stripped):
            if candidate in self.order:
                return candidate
        return None


def scope_label(tensor_name: str) -> str:
    """A short label for a tensor when no Keras layer is known: its first layer-like scope."""
    first = tensor_name.split(";")[0]
    parts = first.split("/")
    return parts[1] if len(parts) > 2 else first


def describe(layers: Sequence[str]) -> str:
    """``conv2d_9 (+batch_normalization_7, activation_7)`` for an op fusing several layers."""
    if not layers:
        return "-"
    if len(layers) == 1:
        return layers[0]
    return f"{layers[0]} (+{', '.join(layers[1:])})"


__all__ = ["LayerMap", "describe", "scope_label"]
