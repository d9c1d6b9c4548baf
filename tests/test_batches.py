"""The batches the runs' models are fitted on (aecrypt.paper.batches): every image once an epoch, a new order each
epoch drawn from the seed alone, validation in order with the values Keras gives the arrays, and no autotuning."""

import keras
import numpy as np
import pytest

from aecrypt.paper import batches, models

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the pipelines are TensorFlow's")


def _epoch(dataset) -> list[list[float]]:
    return [[float(v) for v in xb[:, 0]] for xb, _ in dataset]


def test_each_epoch_is_a_new_order_of_every_training_image_in_full_batches():
    x = np.arange(70, dtype="float32")[:, None]
    data = batches.fit_arguments(x, x, (x[:40], x[:40]), batch_size=32, seed=3)
    first, second = _epoch(data["x"]), _epoch(data["x"])
    assert [len(b) for b in first] == [len(b) for b in second] == [32, 32, 6]
    assert sorted(sum(first, [])) == sorted(sum(second, [])) == list(range(70))
    assert sum(first, []) != sum(second, [])
    for xb, yb in data["x"]:  # inputs and targets stay paired through the shuffle
        np.testing.assert_array_equal(xb.numpy(), yb.numpy())
    assert _epoch(data["validation_data"]) == [list(range(32)), list(range(32, 40))]


def test_the_order_follows_the_seeds_not_the_random_draws_before_it():
    import tensorflow as tf

    x = np.arange(50, dtype="float32")[:, None]
    keras.utils.set_random_seed(0)  # as experiment.start does
    first = _epoch(batches.fit_arguments(x, x, None, 16, seed=7)["x"])
    keras.utils.set_random_seed(0)
    tf.random.uniform((3,)), np.random.random(), tf.random.shuffle(tf.range(5))  # a warm kernel's last run drew more
    again = _epoch(batches.fit_arguments(x, x, None, 16, seed=7)["x"])
    other = _epoch(batches.fit_arguments(x, x, None, 16, seed=8)["x"])
    assert again == first
    assert other != first


def test_the_pipelines_do_not_autotune():
    x = np.zeros((8, 1), "float32")
    data = batches.fit_arguments(x, x, (x, x), batch_size=4, seed=0)
    assert data["x"].options().autotune.enabled is False
    assert data["validation_data"].options().autotune.enabled is False
    assert batches.fit_arguments(x, x, None, batch_size=4, seed=0)["validation_data"] is None


def test_validation_loss_is_what_keras_gives_the_arrays():
    rng = np.random.default_rng(0)
    x, xv = rng.random((40, 32, 32, 1), "float32"), rng.random((20, 32, 32, 1), "float32")
    keras.utils.set_random_seed(0)
    ae = models.build_autoencoder(32, depth=2)
    models.compile_autoencoder(ae, "mse", "adam")
    history = ae.autoencoder.fit(**batches.fit_arguments(x, x, (xv, xv), 8, seed=0), epochs=1, verbose=0)
    arrays = ae.autoencoder.evaluate(xv, xv, batch_size=8, verbose=0, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(arrays["loss"], rel=1e-6)
    assert history.history["val_mae"][0] == pytest.approx(arrays["mae"], rel=1e-6)
