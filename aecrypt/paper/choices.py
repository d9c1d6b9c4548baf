"""The hyperparameter vocabulary and its validation, importable without Keras (the sweep plans
runs without paying for a TensorFlow import)."""

from __future__ import annotations

from aecrypt import UsageError

#: The image sides a run may have (the paper's is 200; no profile runs below 8 or above 4096): what a run folder
#: may declare and the largest image a run-less receiver takes.
MIN_SIDE, MAX_SIDE = 8, 4096

#: The hyperparameter vocabulary, one table each: the name grids, overrides and papermill take → its name in a
#: combination's label (for an optimizer, also the class in keras.optimizers). A run's id hashes its own entry
#: of each table, not the table (`runs.identity.BY_VALUE`), so adding an entry reruns no run.
LOSSES = {"mse": "MSE", "msle": "MSLE", "mae": "MAE", "binary_crossentropy": "BINARY_CROSSENTROPY", "huber": "HUBER"}
OPTIMIZERS = {
    "adam": "Adam",
    "adagrad": "Adagrad",
    "rmsprop": "RMSprop",
    "sgd": "SGD",
    "adamw": "AdamW",
    "nadam": "Nadam",
}
ACTIVATIONS = {
    "relu": "ReLU",
    "elu": "ELU",
    "selu": "SELU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "Leaky_relu",
    "gelu": "GELU",
    "swish": "Swish",
    "linear": "Linear",
}
DEPTHS = (2, 3, 4, 5)
BASE_FILTERS = 32
#: Channels of the narrow latent of the bottleneck variant (a 1×1 convolution after the encoder); 0: none,
#: the paper's latent.
BOTTLENECKS = (0, 1, 2, 4, 8, 16)


def _choice(kind: str, value: str, valid: dict[str, str]) -> str:
    name = str(value).lower()
    if name not in valid:
        plural = "losses" if kind == "loss" else f"{kind}s"
        raise UsageError(f"unknown {kind} {value!r}; valid {plural}: {', '.join(valid)}")
    return name


def validate_loss(name: str) -> str:
    """The canonical (lower-case) name of an autoencoder loss, or a UsageError listing the valid ones.

    Parameters
    ----------
    name : str
        A key of `LOSSES`, in any case.

    Returns
    -------
    str
        The name, lower-cased.

    Raises
    ------
    UsageError
        For a name not in `LOSSES`.

    Examples
    --------
    >>> validate_loss("MSLE")
    'msle'
    >>> validate_loss("l2")
    Traceback (most recent call last):
        ...
    aecrypt.UsageError: unknown loss 'l2'; valid losses: mse, msle, mae, binary_crossentropy, huber
    """
    return _choice("loss", name, LOSSES)


def validate_optimizer(name: str) -> str:
    """The canonical (lower-case) name of an optimizer, or a UsageError listing the valid ones.

    Parameters
    ----------
    name : str
        A key of `OPTIMIZERS`, in any case.

    Returns
    -------
    str
        The name, lower-cased.

    Raises
    ------
    UsageError
        For a name not in `OPTIMIZERS`.

    Examples
    --------
    >>> validate_optimizer("AdaGrad")
    'adagrad'
    >>> validate_optimizer("lbfgs")
    Traceback (most recent call last):
        ...
    aecrypt.UsageError: unknown optimizer 'lbfgs'; valid optimizers: adam, adagrad, rmsprop, sgd, adamw, nadam
    """
    return _choice("optimizer", name, OPTIMIZERS)


def validate_activation(name: str) -> str:
    """The canonical (lower-case) name of an activation, or a UsageError listing the valid ones.

    Parameters
    ----------
    name : str
        A key of `ACTIVATIONS`, in any case.

    Returns
    -------
    str
        The name, lower-cased.

    Raises
    ------
    UsageError
        For a name not in `ACTIVATIONS`.

    Examples
    --------
    >>> validate_activation("Leaky_ReLU")
    'leaky_relu'
    >>> validate_activation("mish")
    Traceback (most recent call last):
        ...
    aecrypt.UsageError: unknown activation 'mish'; valid activations: relu, elu, selu, tanh, sigmoid, leaky_relu,
    gelu, swish, linear
    """
    return _choice("activation", name, ACTIVATIONS)


def valid_depths(input_size: int) -> list[int]:
    """Depths whose d-1 poolings divide the input exactly (so the decoder restores the size).

    Parameters
    ----------
    input_size : int
        The image side in pixels.

    Returns
    -------
    list of int
        The depths of `DEPTHS` (2 to 5) d for which `input_size` is divisible by 2^(d-1); may be empty.

    Examples
    --------
    >>> valid_depths(200), valid_depths(64), valid_depths(30)
    ([2, 3, 4], [2, 3, 4, 5], [2])
    """
    return [d for d in DEPTHS if input_size % 2 ** (d - 1) == 0]


def validate_depth(depth: int, input_size: int) -> int:
    """The depth, if it is one of `DEPTHS` and fits the input size (`valid_depths`), else a UsageError.

    Parameters
    ----------
    depth : int
        Encoder convolutions, 2 to 5: the encoder pools d-1 times by 2.
    input_size : int
        The image side in pixels.

    Returns
    -------
    int
        `depth`, unchanged.

    Raises
    ------
    UsageError
        Where `depth` is not in `DEPTHS` or `input_size` is not divisible by 2^(depth-1); the message lists the
        depths that fit.

    Examples
    --------
    >>> validate_depth(3, 200)
    3
    >>> validate_depth(5, 200)
    Traceback (most recent call last):
        ...
    aecrypt.UsageError: depth 5 does not fit input size 200: depth d needs d-1 poolings by 2, so the size must be
    divisible by 2^(d-1); valid depths for 200: [2, 3, 4] (of [2, 3, 4, 5])
    """
    if depth not in DEPTHS or input_size % 2 ** (depth - 1):
        raise UsageError(
            f"depth {depth} does not fit input size {input_size}: depth d needs d-1 poolings by 2, "
            f"so the size must be divisible by 2^(d-1); valid depths for {input_size}: "
            f"{valid_depths(input_size) or 'none'} (of {list(DEPTHS)})"
        )
    return depth


def validate_bottleneck(channels: int) -> int:
    """The bottleneck's channel count, if it is one of `BOTTLENECKS`, else a UsageError.

    Parameters
    ----------
    channels : int
        Channels of the 1×1 convolution after the encoder: 0 (none, the paper's latent), 1, 2, 4, 8 or 16.

    Returns
    -------
    int
        `channels` as an int.

    Raises
    ------
    UsageError
        For any other value.

    Examples
    --------
    >>> validate_bottleneck(4)
    4
    >>> validate_bottleneck(3)
    Traceback (most recent call last):
        ...
    aecrypt.UsageError: bottleneck 3 is not valid; valid: 0, 1, 2, 4, 8, 16 (0: the paper's latent)
    """
    if channels not in BOTTLENECKS:
        raise UsageError(
            f"bottleneck {channels!r} is not valid; valid: {', '.join(map(str, BOTTLENECKS))} (0: the paper's latent)"
        )
    return int(channels)


def latent_shape(input_size: int, depth: int, bottleneck: int = 0) -> tuple[int, int, int]:
    """The latent of one image: the deepest convolution's map, or `bottleneck` channels of it.

    Parameters
    ----------
    input_size : int
        The image side in pixels (not checked here: see `validate_depth`).
    depth : int
        Encoder convolutions; the map's side is input_size / 2^(depth-1).
    bottleneck : int, optional
        Channels of the bottleneck variant; 0: the deepest convolution's BASE_FILTERS · 2^(depth-1).

    Returns
    -------
    tuple of int
        (height, width, channels).

    Examples
    --------
    >>> latent_shape(200, 3), latent_shape(200, 3, bottleneck=4), latent_shape(64, 5)
    ((50, 50, 128), (50, 50, 4), (4, 4, 512))
    """
    side = input_size // 2 ** (depth - 1)
    return (side, side, bottleneck or BASE_FILTERS * 2 ** (depth - 1))


def combination_label(loss: str, optimizer: str, activation: str, depth: int) -> str:
    """The paper's way of naming a combination, e.g. MSLE+Adagrad+ReLU+2 (a run's full name, with its optional
    parameters, is `paper.parameters.label`).

    Parameters
    ----------
    loss, optimizer, activation : str
        Keys of `LOSSES`, `OPTIMIZERS` and `ACTIVATIONS`; a name not there is shown as given (a loss
        upper-cased, an activation capitalised), not refused.
    depth : int
        Encoder convolutions.

    Returns
    -------
    str
        LOSS+Optimizer+Activation+depth, in the tables' spelling.

    Examples
    --------
    >>> combination_label("msle", "adagrad", "relu", 2)
    'MSLE+Adagrad+ReLU+2'
    >>> combination_label("mse", "adam", "leaky_relu", 3)
    'MSE+Adam+Leaky_relu+3'
    """
    opt = OPTIMIZERS.get(optimizer, optimizer)
    act = ACTIVATIONS.get(activation, activation.capitalize())
    return f"{LOSSES.get(loss, loss.upper())}+{opt}+{act}+{depth}"
