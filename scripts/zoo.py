"""Model zoo: the four MLPerf Tiny reference architectures and synthetic data for them.

The builders replicate the layer shapes of the MLPerf Tiny v0.5-v1.x reference
models (mlcommons/tiny, ``benchmark/training/``) so that parameter and MAC
counts match the published ones exactly. Hyper-parameters that do not change
shapes (L2 regularisation 1e-4, dropout) follow the reference too.

No dataset can be downloaded here, so every model comes with a seeded synthetic
generator, :func:`make_data`, that yields learnable structured data of the
right shape in a realistic range. Class prototypes are drawn from a fixed seed
per model, so data made with different ``seed`` values share classes
(train on one seed, evaluate on another):

* ``kws_dscnn``: MFCC-like 49 frames x 10 coefficients, values in [-30, 30];
  each class is a fixed pattern of three time-cepstrum blobs over a decaying
  cepstral envelope, shifted in time by up to +-6 frames, scaled, plus noise.
* ``ic_resnet8``: 32x32 RGB images in [0, 1]; each class is a colour grating of
  its own orientation and frequency with random phase, lighting and noise.
* ``vww_mobilenet``: 96x96 RGB images in [0, 1]; label 1 ("person") when a soft
  upright figure (head disc over a body ellipse) stands on a smooth random
  background, label 0 for the background alone.
* ``ad_autoencoder``: 640 = 5 frames x 128 log-mel bins in dB, clipped to
  [-80, 10]; normal vectors lie near a 6-dimensional subspace of smooth spectral
  envelopes, strongly correlated across bins and frames. Label 1 marks anomalies
  (narrow-band tones and spectral tilts outside that subspace); the
  autoencoder trains on label 0 only and anomalies are scored by reconstruction
  error (AUC).

Two more models are edgeq's own, not MLPerf references (their "published"
figures are their own counts): ``seg_unet``, a small U-Net-like segmenter (see
``scripts/zoo_seg.py``), and ``imu_lstm``, an LSTM
activity classifier over 48-step accelerometer + gyroscope windows: see
``scripts/zoo_imu.py`` for the model, its data and how it converts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import zoo_data  # noqa: E402
import zoo_imu  # noqa: E402
import zoo_seg  # noqa: E402

L2 = 1e-4  # kernel regulariser of the IC, KWS and VWW references
MAC_LAYERS = ("Conv2D", "DepthwiseConv2D", "Dense", "Conv2DTranspose")  # MLPerf convention: no pooling/add/BN


def _keras() -> Any:
    """Import Keras lazily so that reading fixtures does not need TensorFlow."""
    import keras

    return keras


def _conv(filters: int, kernel: Any, strides: int = 1, he: bool = False) -> Any:
    keras = _keras()
    init = "he_normal" if he else "glorot_uniform"
    return keras.layers.Conv2D(
        filters,
        kernel,
        strides=strides,
        padding="same",
        kernel_initializer=init,
        kernel_regularizer=keras.regularizers.L2(L2),
    )


def _bn_relu(x: Any) -> Any:
    layers = _keras().layers
    return layers.Activation("relu")(layers.BatchNormalization()(x))


def _ds_block(x: Any, filters: int, strides: int = 1) -> Any:
    """Depthwise 3x3 + BN + ReLU, then pointwise 1x1 + BN + ReLU."""
    keras = _keras()
    dw = keras.layers.DepthwiseConv2D(
        3, strides=strides, padding="same", depthwise_regularizer=keras.regularizers.L2(L2)
    )
    return _bn_relu(_conv(filters, 1)(_bn_relu(dw(x))))


def _classifier_head(x: Any, classes: int, he: bool = False) -> Any:
    """Average-pool the whole feature map, flatten, dense softmax."""
    layers = _keras().layers
    x = layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]))(x)
    init = "he_normal" if he else "glorot_uniform"
    return layers.Dense(classes, activation="softmax", kernel_initializer=init)(layers.Flatten()(x))


def kws_dscnn(input_shape: Sequence[int] = (49, 10, 1), classes: int = 12) -> Any:
    """DS-CNN keyword spotter: conv 10x4/2 with 64 filters, 4 depthwise-separable blocks."""
    keras = _keras()
    inputs = keras.Input(shape=tuple(input_shape), name="mfcc")
    x = keras.layers.Dropout(0.2)(_bn_relu(_conv(64, (10, 4), strides=2)(inputs)))
    for _ in range(4):
        x = _ds_block(x, 64)
    x = keras.layers.Dropout(0.4)(x)
    return keras.Model(inputs, _classifier_head(x, classes), name="kws_dscnn")


def _residual_stack(x: Any, filters: int, strides: int) -> Any:
    """Two 3x3 convs with BN; a strided 1x1 conv on the shortcut when the shape changes."""
    layers = _keras().layers
    y = _bn_relu(_conv(filters, 3, strides, he=True)(x))
    y = layers.BatchNormalization()(_conv(filters, 3, he=True)(y))
    if strides != 1:
        x = _conv(filters, 1, strides, he=True)(x)
    return layers.Activation("relu")(layers.add([x, y]))


def ic_resnet8(input_shape: Sequence[int] = (32, 32, 3), classes: int = 10) -> Any:
    """ResNet-8 (EEMBC ResNetv1): stem conv 16, three stacks of 16/32/64 filters."""
    keras = _keras()
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = _bn_relu(_conv(16, 3, he=True)(inputs))
    for filters, strides in ((16, 1), (32, 2), (64, 2)):
        x = _residual_stack(x, filters, strides)
    return keras.Model(inputs, _classifier_head(x, classes, he=True), name="ic_resnet8")


_VWW_BLOCKS = ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2)) + ((128, 1),) * 5
_VWW_BLOCKS += ((256, 2), (256, 1))


def vww_mobilenet(input_shape: Sequence[int] = (96, 96, 3), classes: int = 2) -> Any:
    """MobileNetV1 alpha 0.25: conv 3x3/2 with 8 filters, 13 depthwise-separable blocks."""
    keras = _keras()
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = _bn_relu(_conv(8, 3, strides=2)(inputs))
    for filters, strides in _VWW_BLOCKS:
        x = _ds_block(x, filters, strides)
    return keras.Model(inputs, _classifier_head(x, classes), name="vww_mobilenet")


def ad_autoencoder(input_shape: Sequence[int] = (640,), classes: int = 0) -> Any:
    """FC autoencoder 640-128-128-128-128-8-128-128-128-128-640, BN + ReLU after each hidden."""
    del classes  # an autoencoder reconstructs its input
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input(shape=tuple(input_shape), name="logmel")
    x = inputs
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = _bn_relu(layers.Dense(units)(x))
    outputs = layers.Dense(int(np.prod(input_shape)))(x)
    return keras.Model(inputs, outputs, name="ad_autoencoder")


def count_params(model: Any) -> tuple[int, int]:
    """Return (total, trainable) parameters; total includes BN moving statistics."""
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return int(model.count_params()), trainable


def layer_macs(layer: Any) -> int:
    """MACs of one Keras layer: output positions x kernel size for conv/depthwise/dense."""
    if type(layer).__name__ == "LSTM":
        return zoo_imu.layer_macs(layer)
    if type(layer).__name__ not in MAC_LAYERS:
        return 0
    kernel = layer.depthwise_kernel if hasattr(layer, "depthwise_kernel") else layer.kernel
    # a transposed convolution applies its whole kernel once per input position
    spatial = layer.input if type(layer).__name__ == "Conv2DTranspose" else layer.output
    positions = int(np.prod(spatial.shape[1:-1]))
    return positions * int(np.prod(kernel.shape))


def count_macs(model: Any) -> int:
    """Multiply-accumulates of one inference (batch 1), MLPerf convention."""
    return sum(layer_macs(layer) for layer in model.layers)


# ---------------------------------------------------------------------------
# Synthetic data


_GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "kws_dscnn": zoo_data.kws_data,
    "ic_resnet8": zoo_data.ic_data,
    "vww_mobilenet": zoo_data.vww_data,
    "ad_autoencoder": zoo_data.ad_data,
    "seg_unet": zoo_seg.seg_data,
    "imu_lstm": zoo_imu.imu_data,
}


def make_data(name: str, n: int, seed: int, **options: Any) -> tuple[np.ndarray, np.ndarray]:
    """Seeded synthetic data for zoo model ``name``.

    Args:
        name: a key of :data:`ZOO`.
        n: number of samples.
        seed: seed of the sample draw (class prototypes are fixed per model).
        **options: ``anomaly_fraction`` (default 0.5) for ``ad_autoencoder``.

    Returns:
        ``(x, y)``: ``x`` float32 of shape ``(n, *input_shape)``; ``y`` int64
        class labels, anomaly flags (1 = anomalous) for the autoencoder, or
        per-pixel object masks ``(n, 32, 32)`` for the segmenter.
    """
    if name not in _GENERATORS:
        raise KeyError(f"unknown zoo model {name!r}; choose from {sorted(_GENERATORS)}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    x, y = _GENERATORS[name](n, np.random.default_rng(seed), **options)
    return x, y.astype(np.int64)


# ---------------------------------------------------------------------------
# Registry


@dataclass(frozen=True)
class ZooEntry:
    """One zoo model: its builder and the numbers it must reproduce.

    Attributes:
        name: registry key, also the fixture folder name.
        builder: returns a fresh, untrained Keras model.
        input_shape: per-sample input shape (no batch dimension).
        classes: output classes; 0 for the autoencoder (it reconstructs its input).
        params_total: parameters of the built model, BatchNorm moving statistics included.
        params_trainable: trainable parameters (total minus BN moving mean/variance).
        macs: multiply-accumulates per inference (conv, depthwise, dense; MLPerf convention).
        published_params: parameter count as published by ``params_source``.
        published_params_kind: "total" or "trainable", what ``published_params`` counts.
        published_macs: MACs as published by ``macs_source`` (rounded there).
        input_range: (low, high) of the synthetic inputs.
        description: architecture and where it comes from.
        params_source: where ``published_params`` is published.
        macs_source: where ``published_macs`` is published.
    """

    name: str
    builder: Callable[[], Any]
    input_shape: tuple[int, ...]
    classes: int
    params_total: int
    params_trainable: int
    macs: int
    published_params: int
    published_params_kind: str
    published_macs: float
    input_range: tuple[float, float]
    description: str
    params_source: str
    macs_source: str

    def __post_init__(self) -> None:
        if self.published_params_kind not in ("total", "trainable"):
            raise ValueError(f"{self.name}: published_params_kind must be 'total' or 'trainable'")
        if not 0 < self.params_trainable <= self.params_total:
            raise ValueError(f"{self.name}: need 0 < params_trainable <= params_total")
        if self.macs <= 0 or self.published_macs <= 0:
            raise ValueError(f"{self.name}: MAC counts must be positive")
        if self.input_range[0] >= self.input_range[1]:
            raise ValueError(f"{self.name}: input_range must be (low, high)")

    @property
    def params_matching_published(self) -> int:
        """The computed count of the same kind as ``published_params``."""
        if self.published_params_kind == "total":
            return self.params_total
        return self.params_trainable


_REF = "mlcommons/tiny benchmark/training/"
_NXP = "NXP eIQ Model Zoo model card of the MLCommons-trained model ("
_MLTK = "Silicon Labs MLTK docs, `mltk summarize --tflite` of the reference model ("
_OWN = "not published: edgeq's own count of the Keras model"

ZOO: dict[str, ZooEntry] = {
    e.name: e
    for e in (
        ZooEntry(
            "kws_dscnn",
            kws_dscnn,
            (49, 10, 1),
            12,
            24_908,
            23_756,
            2_656_768,
            23_756,
            "trainable",
            2.657e6,
            (-30.0, 30.0),
            "DS-CNN keyword spotting (Hello Edge, arXiv:1711.07128): conv 10x4 stride 2 "
            "64 filters, 4x (depthwise 3x3 + pointwise 64), avg-pool 25x5, dense 12; "
            f"{_REF}keyword_spotting/keras_model.py (ds_cnn)",
            f"{_NXP}tasks/audio/command-recognition/keyword-spotting_DSCNN)",
            f"{_MLTK}models/tinyml/keyword_spotting.py: Total MACs 2.657 M)",
        ),
        ZooEntry(
            "ic_resnet8",
            ic_resnet8,
            (32, 32, 3),
            10,
            78_666,
            78_186,
            12_501_632,
            78_666,
            "total",
            12.502e6,
            (0.0, 1.0),
            "ResNet-8 for CIFAR-10 (EEMBC ResNetv1): conv 3x3 16, stacks of 16/32/64 "
            "filters (3x3 convs, 1x1 stride-2 shortcuts), avg-pool 8x8, dense 10; "
            f"{_REF}image_classification/keras_model.py (resnet_v1_eembc, 16 filters)",
            f"{_NXP}tasks/vision/classification/tiny-resnet)",
            f"{_MLTK}models/tinyml/image_classification.py: Total MACs 12.502 M)",
        ),
        ZooEntry(
            "vww_mobilenet",
            vww_mobilenet,
            (96, 96, 3),
            2,
            221_794,
            216_322,
            7_489_664,
            221_794,
            "total",
            7.490e6,
            (0.0, 1.0),
            "MobileNetV1 alpha 0.25 on 96x96 (person detection): conv 3x3 stride 2 "
            "8 filters, 13 depthwise-separable blocks up to 256, avg-pool 3x3, dense 2; "
            f"{_REF}visual_wake_words/vww_model.py (mobilenet_v1, from SiliconLabs "
            "platform_ml_models eembc/Person_detection)",
            f"{_NXP}tasks/vision/classification/visual-wake-word)",
            f"{_MLTK}models/tinyml/visual_wake_words.py: Total MACs 7.490 M)",
        ),
        ZooEntry(
            "ad_autoencoder",
            ad_autoencoder,
            (640,),
            0,
            269_992,
            267_928,
            264_192,
            267_928,
            "trainable",
            264_192.0,
            (-80.0, 10.0),
            "Fully-connected autoencoder for ToyADMOS (DCASE 2020 task 2 baseline): "
            "640-128x4-8-128x4-640 dense layers, BN + ReLU after each hidden layer; "
            f"{_REF}anomaly_detection/keras_model.py",
            f"{_NXP}tasks/audio/anomaly-detection/deep-autoencoder)",
            f"{_MLTK}models/tinyml/anomaly_detection.py: Total MACs 264.192 k)",
        ),
        ZooEntry(
            "seg_unet",
            zoo_seg.seg_unet,
            (32, 32, 1),
            2,
            25_122,
            25_122,
            3_465_216,
            25_122,
            "total",
            3_465_216.0,
            (0.0, 1.0),
            "U-Net-like segmenter of 32x32 grayscale images (edgeq's own, no MLPerf reference): conv 8, "
            "stride-2 convs 16 and 32, conv 32, transposed conv 3x3/2 to 16 concatenated with the 16x16 "
            "skip, conv 16, bilinear upsampling x2, 1x1 conv 8 added to the 32x32 skip, conv 8, 1x1 conv 2 "
            "with a per-pixel softmax",
            _OWN,
            _OWN,
        ),
        ZooEntry(
            "imu_lstm",
            zoo_imu.imu_lstm,
            (zoo_imu.STEPS, zoo_imu.CHANNELS),
            zoo_imu.CLASSES,
            3_126,
            3_126,
            138_384,
            3_126,
            "total",
            138_384.0,
            (-4.0, 4.0),
            "LSTM activity classifier over 48 steps of a 3-axis accelerometer and gyroscope (edgeq's own, "
            "no MLPerf reference): LSTM 24 units, dense 6 with softmax (idle, walk, run, wave, circle, shake)",
            _OWN,
            _OWN,
        ),
    )
}
