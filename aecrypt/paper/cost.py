"""What the paper's autoencoder costs, counted from its layer shapes (no Keras import).

Convention, stated wherever a GFLOP/s figure is shown: a multiply-add is 2 FLOP; only convolutions
are counted (pooling, upsampling, activations and the optimizer are left out); one training step
costs 3× the forward pass (forward, gradient of the input, gradient of the weights).
"""

from __future__ import annotations

from aecrypt.paper.choices import BASE_FILTERS, validate_depth

KERNEL = 3 * 3
TRAIN_OVER_FORWARD = 3
FLOP_CONVENTION = (
    "a multiply-add = 2 FLOP; convolutions only; training ≈ 3× the forward pass; "
    "peak = fp32 GEMM (2·n³ FLOP) through the same backend on all cores"
)


def _conv(side: int, cin: int, cout: int) -> int:
    return 2 * side * side * KERNEL * cin * cout


def conv_shapes(input_size: int, depth: int) -> list[tuple[str, int, int, int]]:
    """(layer, output side, input channels, output channels) of every convolution, encoder then decoder,
    in the order `models.build_autoencoder` builds them.

    Parameters
    ----------
    input_size : int
        The image side in pixels.
    depth : int
        Encoder convolutions; must fit `input_size` (`choices.validate_depth`).

    Returns
    -------
    list of (str, int, int, int)
        One tuple per 3×3 convolution: its name, the side of its square output, and its channels in and out
        (encoder layer i has BASE_FILTERS · 2^i filters; the decoder mirrors it and ends in one channel).

    Raises
    ------
    UsageError
        Where the depth does not fit the input size.

    Examples
    --------
    >>> for layer in conv_shapes(64, 2):
    ...     print(layer)
    ('encoder_conv1', 64, 1, 32)
    ('encoder_conv2', 32, 32, 64)
    ('decoder_conv1', 32, 64, 64)
    ('decoder_conv2', 64, 64, 1)
    """
    validate_depth(depth, input_size)
    layers, cin = [], 1
    for i in range(depth):
        cout = BASE_FILTERS * 2**i
        layers.append((f"encoder_conv{i + 1}", input_size // 2**i, cin, cout))
        cin = cout
    for i in reversed(range(1, depth)):
        cout = BASE_FILTERS * 2**i
        layers.append((f"decoder_conv{depth - i}", input_size // 2**i, cin, cout))
        cin = cout
    layers.append((f"decoder_conv{depth}", input_size, cin, 1))
    return layers


def forward_flops(input_size: int, depth: int) -> int:
    """FLOP of one image through the autoencoder (encoder and decoder).

    Counted as the module states: 2 FLOP per multiply-add, convolutions only (2 · side² · 9 · in · out each).

    Parameters
    ----------
    input_size : int
        The image side in pixels.
    depth : int
        Encoder convolutions; must fit `input_size`.

    Returns
    -------
    int
        Floating-point operations of one forward pass.

    Examples
    --------
    >>> forward_flops(64, 2)
    120324096
    >>> f"{forward_flops(200, 3) / 1e9:.2f} GFLOP"
    '3.02 GFLOP'
    """
    return sum(_conv(side, cin, cout) for _, side, cin, cout in conv_shapes(input_size, depth))


def train_flops(input_size: int, depth: int, images: int, epochs: int = 1) -> int:
    """FLOP to train the autoencoder on `images` images for `epochs` epochs.

    Parameters
    ----------
    input_size : int
        The image side in pixels.
    depth : int
        Encoder convolutions; must fit `input_size`.
    images : int
        Training images per epoch.
    epochs : int, optional
        Passes over them.

    Returns
    -------
    int
        `TRAIN_OVER_FORWARD` (3) × `forward_flops` × images × epochs: each step is a forward pass and the
        gradients of the inputs and of the weights.

    Examples
    --------
    >>> train_flops(64, 2, images=100, epochs=2) == 3 * forward_flops(64, 2) * 100 * 2
    True
    >>> f"{train_flops(200, 3, images=5400) / 1e12:.1f} TFLOP"
    '48.9 TFLOP'
    """
    return TRAIN_OVER_FORWARD * forward_flops(input_size, depth) * images * epochs
