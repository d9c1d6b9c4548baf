"""The paper's convolutional autoencoder and the two-layer CNN classifier (Keras 3 APIs only).

Only `keras.layers` / `keras.ops` are used, so the same code runs with KERAS_BACKEND=tensorflow
(the default), jax or torch.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np

from aecrypt.paper.choices import (
    BASE_FILTERS,
    OPTIMIZERS,
    latent_shape,
    validate_activation,
    validate_bottleneck,
    validate_depth,
    validate_loss,
    validate_optimizer,
)

#: The classifier is held fixed across the sweep so that only the autoencoder varies.
CLASSIFIER = {
    "filters": (16, 32),
    "kernel_size": 3,
    "dense_dropout": 0.3,
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "loss": "binary_crossentropy",
}


class Autoencoder(NamedTuple):
    """The full model for training, plus its two halves: the cipher sits between them."""

    autoencoder: keras.Model
    encoder: keras.Model
    decoder: keras.Model


def make_optimizer(name: str, **options) -> keras.optimizers.Optimizer:
    """The optimizer with Keras' defaults (as the paper, which names no learning rate) but for the `options`
    given (e.g. learning_rate=0.01: the run parameters whose role is "optimizer", `paper.parameters.options`).

    Parameters
    ----------
    name : str
        A key of `choices.OPTIMIZERS` (adam, adagrad, rmsprop, sgd, adamw, nadam), in any case.
    **options
        Keyword arguments of that keras.optimizers class, e.g. learning_rate; none: Keras' defaults.

    Returns
    -------
    keras.optimizers.Optimizer
        A new optimizer of the class `OPTIMIZERS` names, e.g. keras.optimizers.Adagrad for "adagrad".

    Raises
    ------
    UsageError
        For a name not in `OPTIMIZERS`; the message lists the valid ones.

    Examples
    --------
    >>> adam = make_optimizer("adam")
    >>> type(adam).__name__, round(float(adam.learning_rate), 6)
    ('Adam', 0.001)
    >>> sgd = make_optimizer("SGD", learning_rate=0.01)
    >>> type(sgd).__name__, round(float(sgd.learning_rate), 6)
    ('SGD', 0.01)
    """
    return getattr(keras.optimizers, OPTIMIZERS[validate_optimizer(name)])(**options)


def _conv(filters: int, activation: str, name: str) -> keras.layers.Conv2D:
    return keras.layers.Conv2D(filters, (3, 3), padding="same", activation=activation, name=name)


def build_autoencoder(
    input_size: int = 200, depth: int = 3, activation: str = "relu", bottleneck: int = 0
) -> Autoencoder:
    """The paper's autoencoder as far as its text describes it. Depth d: d encoder convolutions (32·2^i
    filters) with d-1 max-poolings; the decoder mirrors it (Conv → UpSampling from the deepest conv to the
    second) and ends with a one-filter sigmoid convolution. At depth 3 the encoder is the paper's layer list;
    its decoder text names one UpSampling2D, and the second one here is inferred (two poolings need two
    upsamplings to give back a 200×200 image). See the book's Limitations page.

    With `bottleneck` k > 0 (not the paper's: the chapter "Is it compressed?") a 1×1 convolution narrows the
    encoder's output to k channels and its mirror widens them again before the decoder, so the latent that
    is sent holds k values per position instead of 32·2^(d-1).

    Parameters
    ----------
    input_size : int, optional
        The image side in pixels, divisible by 2^(depth-1) (`choices.validate_depth`).
    depth : int, optional
        Encoder convolutions, one of `choices.DEPTHS` (2 to 5) that fits `input_size`.
    activation : str, optional
        A key of `choices.ACTIVATIONS`, in any case: every convolution's but the last (sigmoid).
    bottleneck : int, optional
        One of `choices.BOTTLENECKS`: 0, the paper's latent; k > 0, a latent of k channels.

    Returns
    -------
    Autoencoder
        Three uncompiled keras.Models sharing their layers: `encoder`, image (input_size, input_size, 1) →
        latent (`choices.latent_shape`); `decoder`, latent → image in [0, 1]; `autoencoder`, named
        "autoencoder_d<depth>", the two in sequence.

    Raises
    ------
    UsageError
        For a depth that does not fit `input_size`, or an unknown activation or bottleneck.

    Examples
    --------
    >>> ae = build_autoencoder(32, depth=2)
    >>> ae.autoencoder.name, ae.encoder.output.shape, ae.decoder.output.shape
    ('autoencoder_d2', (None, 16, 16, 64), (None, 32, 32, 1))
    >>> narrow = build_autoencoder(32, depth=2, bottleneck=4)
    >>> narrow.encoder.output.shape, [layer.name for layer in narrow.decoder.layers[1:]]
    ((None, 16, 16, 4), ['decoder_widen', 'decoder_conv1', 'decoder_up1', 'decoder_conv2'])
    """
    validate_depth(depth, input_size)
    activation = validate_activation(activation)
    bottleneck = validate_bottleneck(bottleneck)
    deepest = BASE_FILTERS * 2 ** (depth - 1)

    image = keras.Input((input_size, input_size, 1), name="image")
    x = image
    for i in range(depth):
        if i:
            x = keras.layers.MaxPooling2D((2, 2), name=f"encoder_pool{i}")(x)
        x = _conv(BASE_FILTERS * 2**i, activation, f"encoder_conv{i + 1}")(x)
    if bottleneck:
        x = keras.layers.Conv2D(bottleneck, (1, 1), activation=activation, name="encoder_bottleneck")(x)
    encoder = keras.Model(image, x, name="encoder")

    latent = keras.Input(latent_shape(input_size, depth, bottleneck), name="latent")
    y = latent
    if bottleneck:
        y = keras.layers.Conv2D(deepest, (1, 1), activation=activation, name="decoder_widen")(y)
    for i in reversed(range(1, depth)):
        y = _conv(BASE_FILTERS * 2**i, activation, f"decoder_conv{depth - i}")(y)
        y = keras.layers.UpSampling2D((2, 2), name=f"decoder_up{depth - i}")(y)
    y = keras.layers.Conv2D(1, (3, 3), padding="same", activation="sigmoid", name=f"decoder_conv{depth}")(y)
    decoder = keras.Model(latent, y, name="decoder")

    autoencoder = keras.Model(image, decoder(encoder(image)), name=f"autoencoder_d{depth}")
    return Autoencoder(autoencoder, encoder, decoder)


def compile_autoencoder(
    ae: Autoencoder, loss: str, optimizer: str, jit_compile: bool | str = False, optimizer_options: dict | None = None
) -> None:
    """Keras' "auto" would turn XLA on for some backends; the profile decides, so runs stay comparable.

    Compiles `ae.autoencoder` in place, with the mse and mae metrics besides the loss.

    Parameters
    ----------
    ae : Autoencoder
        From `build_autoencoder`.
    loss : str
        A key of `choices.LOSSES`, in any case.
    optimizer : str
        A key of `choices.OPTIMIZERS`, in any case (`make_optimizer`).
    jit_compile : bool or "auto", optional
        XLA for the training step: the profile's `jit_compile`; False by default.
    optimizer_options : dict or None, optional
        Keyword arguments of the optimizer, e.g. {"learning_rate": 0.01}; None: Keras' defaults.

    Returns
    -------
    None
        The autoencoder is compiled in place.

    Raises
    ------
    UsageError
        For an unknown loss or optimizer.

    Examples
    --------
    >>> ae = build_autoencoder(32, depth=2)
    >>> compile_autoencoder(ae, "MSE", "adagrad", optimizer_options={"learning_rate": 0.01})
    >>> model = ae.autoencoder
    >>> model.loss, type(model.optimizer).__name__, round(float(model.optimizer.learning_rate), 6), model.jit_compile
    ('mse', 'Adagrad', 0.01, False)
    """
    ae.autoencoder.compile(
        optimizer=make_optimizer(optimizer, **(optimizer_options or {})),
        loss=validate_loss(loss),
        metrics=["mse", "mae"],
        jit_compile=jit_compile,
    )


def build_classifier(input_size: int) -> keras.Model:
    """The two-layer CNN trained on retrieved images: two Conv+MaxPool blocks, a dense sigmoid head.
    Its settings (CLASSIFIER) are fixed across the sweep.

    Parameters
    ----------
    input_size : int
        The image side in pixels, at least 4 (two 2×2 poolings).

    Returns
    -------
    keras.Sequential
        "classifier": image (input_size, input_size, 1) → probability of positive, compiled with Adam (learning
        rate 1e-3), binary cross-entropy and accuracy; untrained.

    Examples
    --------
    >>> clf = build_classifier(32)
    >>> clf.name, clf.output_shape, clf.count_params(), clf.loss, type(clf.optimizer).__name__
    ('classifier', (None, 1), 6849, 'binary_crossentropy', 'Adam')
    >>> [layer.name for layer in clf.layers]
    ['clf_conv1', 'clf_pool1', 'clf_conv2', 'clf_pool2', 'clf_flatten', 'clf_dropout', 'clf_out']
    """
    f1, f2 = CLASSIFIER["filters"]
    k = CLASSIFIER["kernel_size"]
    model = keras.Sequential(
        [
            keras.Input((input_size, input_size, 1), name="retrieved"),
            keras.layers.Conv2D(f1, k, padding="same", activation="relu", name="clf_conv1"),
            keras.layers.MaxPooling2D(2, name="clf_pool1"),
            keras.layers.Conv2D(f2, k, padding="same", activation="relu", name="clf_conv2"),
            keras.layers.MaxPooling2D(2, name="clf_pool2"),
            # a location-aware dense head: global average pooling washed out small lesions (AUC ~0.5)
            keras.layers.Flatten(name="clf_flatten"),
            keras.layers.Dropout(CLASSIFIER["dense_dropout"], name="clf_dropout"),
            keras.layers.Dense(1, activation="sigmoid", name="clf_out"),
        ],
        name="classifier",
    )
    model.compile(
        optimizer=make_optimizer(CLASSIFIER["optimizer"], learning_rate=CLASSIFIER["learning_rate"]),
        loss=CLASSIFIER["loss"],
        metrics=["accuracy"],
    )
    return model


def forward(model: keras.Model, x) -> np.ndarray:
    """One forward pass in inference mode, as NumPy. A direct call, not predict(): no function is traced per new
    shape, which costs more than the pass itself on the small default profile.

    Parameters
    ----------
    model : keras.Model
        Any model: an encoder, a decoder, the classifier.
    x : array_like
        A batch of its inputs.

    Returns
    -------
    ndarray
        Its outputs for `x`.

    Examples
    --------
    >>> ae = build_autoencoder(32, depth=2)
    >>> forward(ae.encoder, np.zeros((3, 32, 32, 1), np.float32)).shape
    (3, 16, 16, 64)
    """
    return keras.ops.convert_to_numpy(model(x, training=False))


def layer_table(model: keras.Model) -> list[dict]:
    """One row per layer (nested models expanded): name, type, output shape, filters, activation.

    Parameters
    ----------
    model : keras.Model
        A functional or Sequential model whose layers have been called, e.g. from `build_autoencoder` or
        `build_classifier`.

    Returns
    -------
    list of dict
        One dict per layer in the model's order, input layers left out, with "layer" (its name), "type" (its
        class name), "output_shape" (without the batch axis), "filters" (None where it has none), "activation"
        (the function's name, or None) and "params" (its weights' count).

    Examples
    --------
    >>> for row in layer_table(build_autoencoder(32, depth=2).autoencoder):
    ...     print(*row.values())
    encoder_conv1 Conv2D (32, 32, 32) 32 relu 320
    encoder_pool1 MaxPooling2D (16, 16, 32) None None 0
    encoder_conv2 Conv2D (16, 16, 64) 64 relu 18496
    decoder_conv1 Conv2D (16, 16, 64) 64 relu 36928
    decoder_up1 UpSampling2D (32, 32, 64) None None 0
    decoder_conv2 Conv2D (32, 32, 1) 1 sigmoid 577
    """
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            rows.extend(layer_table(layer))
            continue
        if isinstance(layer, keras.layers.InputLayer):
            continue
        rows.append(
            {
                "layer": layer.name,
                "type": type(layer).__name__,
                "output_shape": tuple(layer.output.shape[1:]),
                "filters": getattr(layer, "filters", None),
                "activation": getattr(getattr(layer, "activation", None), "__name__", None),
                "params": layer.count_params(),
            }
        )
    return rows
