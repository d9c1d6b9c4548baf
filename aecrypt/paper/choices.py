"""The hyperparameter vocabulary and its validation, importable without Keras (the sweep plans
runs without paying for a TensorFlow import)."""

from __future__ import annotations

from aecrypt import UsageError

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
    return _choice("loss", name, LOSSES)


def validate_optimizer(name: str) -> str:
    return _choice("optimizer", name, OPTIMIZERS)


def validate_activation(name: str) -> str:
    return _choice("activation", name, ACTIVATIONS)


def valid_depths(input_size: int) -> list[int]:
    """Depths whose d-1 poolings divide the input exactly (so the decoder restores the size)."""
    return [d for d in DEPTHS if input_size % 2 ** (d - 1) == 0]


def validate_depth(depth: int, input_size: int) -> int:
    if depth not in DEPTHS or input_size % 2 ** (depth - 1):
        raise UsageError(
            f"depth {depth} does not fit input size {input_size}: depth d needs d-1 poolings by 2, "
            f"so the size must be divisible by 2^(d-1); valid depths for {input_size}: "
            f"{valid_depths(input_size) or 'none'} (of {list(DEPTHS)})"
        )
    return depth


def validate_bottleneck(channels: int) -> int:
    if channels not in BOTTLENECKS:
        raise UsageError(
            f"bottleneck {channels!r} is not valid; valid: {', '.join(map(str, BOTTLENECKS))} (0: the paper's latent)"
        )
    return int(channels)


def latent_shape(input_size: int, depth: int, bottleneck: int = 0) -> tuple[int, int, int]:
    """The latent of one image: the deepest convolution's map, or `bottleneck` channels of it."""
    side = input_size // 2 ** (depth - 1)
    return (side, side, bottleneck or BASE_FILTERS * 2 ** (depth - 1))


def combination_label(loss: str, optimizer: str, activation: str, depth: int) -> str:
    """The paper's way of naming a combination, e.g. MSLE+Adagrad+ReLU+2 (a run's full name, with its optional
    parameters, is `paper.parameters.label`)."""
    opt = OPTIMIZERS.get(optimizer, optimizer)
    act = ACTIVATIONS.get(activation, activation.capitalize())
    return f"{LOSSES.get(loss, loss.upper())}+{opt}+{act}+{depth}"
