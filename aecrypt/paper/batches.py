"""The batches a run's models train and validate on: what `fit` is given for the autoencoder and the classifier.

Under TensorFlow they are tf.data pipelines built here without autotuning. Keras' own pipeline for arrays
autotunes, and its tuning thread stalls a worker that has one core (the sweep runs one thread per worker): epochs
took up to twice as long, most often with two workers side by side (`make bench-stages` times the epochs).
Other backends get the arrays, shuffled by Keras.
"""

from __future__ import annotations

import keras
import numpy as np


def _batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None = None):
    """(x, y) in batches without autotuning, shuffled anew each epoch where `seed` is given. Targets that are the
    inputs (an autoencoder's) become one tensor, not two copies of the images."""
    import tensorflow as tf

    if y is x:
        x = y = tf.convert_to_tensor(x)
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if seed is not None:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.batch(batch_size).with_options(options)


def fit_arguments(
    x: np.ndarray, y: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None, batch_size: int, seed: int
) -> dict:
    """`fit`'s data arguments: the training images in batches, shuffled anew each epoch, and the validation
    images in batches, in order.

    Parameters
    ----------
    x, y : ndarray
        Training inputs and targets (for the autoencoder, the same array twice: it then becomes one tensor).
    validation : tuple of ndarray or None
        Validation inputs and targets; None: no validation.
    batch_size : int
        Images per batch; the last batch of each holds the rest.
    seed : int
        Seeds the order of the training images, with the generators' seed (`experiment.start`): each epoch
        draws a new order from the two, whatever was drawn before (the same in a warm kernel as in a fresh one).
        Other backends take the order from Keras' generator alone.

    Returns
    -------
    dict
        Keyword arguments for `keras.Model.fit`: ``x``, ``validation_data`` (None without validation) and
        ``shuffle``; without TensorFlow also ``y`` and ``batch_size``.

    Examples
    --------
    >>> x = np.arange(10, dtype="float32")[:, None]
    >>> args = fit_arguments(x, x, (x[:3], x[:3]), batch_size=4, seed=0)
    >>> [len(xb) for xb, _ in args["x"]], [len(xb) for xb, _ in args["validation_data"]]
    ([4, 4, 2], [3])
    >>> first, again = ([float(v) for xb, _ in args["x"] for v in xb[:, 0]] for _ in range(2))
    >>> sorted(first) == sorted(again) == list(range(10)), first != again
    (True, True)
    """
    if keras.backend.backend() != "tensorflow":
        return {"x": x, "y": y, "batch_size": batch_size, "shuffle": True, "validation_data": validation}
    val = None if validation is None else _batches(*validation, batch_size)
    # shuffle=False: the pipeline shuffles; Keras' own flag applies only to arrays (and warns when given one)
    return {"x": _batches(x, y, batch_size, seed), "validation_data": val, "shuffle": False}
