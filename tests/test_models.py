import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from aecrypt import AecryptError
from aecrypt.paper import choices, models

PAPER_DEPTH3 = [
    ("encoder_conv1", "Conv2D", (64, 64, 32), 32, "relu"),
    ("encoder_pool1", "MaxPooling2D", (32, 32, 32), None, None),
    ("encoder_conv2", "Conv2D", (32, 32, 64), 64, "relu"),
    ("encoder_pool2", "MaxPooling2D", (16, 16, 64), None, None),
    ("encoder_conv3", "Conv2D", (16, 16, 128), 128, "relu"),
    ("decoder_conv1", "Conv2D", (16, 16, 128), 128, "relu"),
    ("decoder_up1", "UpSampling2D", (32, 32, 128), None, None),
    ("decoder_conv2", "Conv2D", (32, 32, 64), 64, "relu"),
    ("decoder_up2", "UpSampling2D", (64, 64, 64), None, None),
    ("decoder_conv3", "Conv2D", (64, 64, 1), 1, "sigmoid"),
]


def test_depth3_is_exactly_the_papers_layer_list():
    ae = models.build_autoencoder(64, 3, "relu")
    rows = [
        (r["layer"], r["type"], r["output_shape"], r["filters"], r["activation"])
        for r in models.layer_table(ae.autoencoder)
    ]
    assert rows == PAPER_DEPTH3
    for layer in ae.autoencoder.layers:
        for sub in getattr(layer, "layers", []):
            if type(sub).__name__ == "Conv2D":
                assert sub.kernel_size == (3, 3) and sub.padding == "same"


def test_paper_size_latent_is_larger_than_the_image():
    ae = models.build_autoencoder(200, 3)
    assert ae.encoder.output.shape[1:] == (50, 50, 128)
    assert np.prod(ae.encoder.output.shape[1:]) == 8 * 200 * 200


@pytest.mark.parametrize(("depth", "latent"), [(2, (32, 32, 64)), (5, (4, 4, 512))])
def test_depth_2_and_5_shapes(depth, latent):
    ae = models.build_autoencoder(64, depth)
    assert ae.encoder.output_shape[1:] == latent
    assert ae.decoder.output_shape[1:] == (64, 64, 1)
    assert ae.autoencoder.output_shape[1:] == (64, 64, 1)
    convs = [r for r in models.layer_table(ae.encoder) if r["type"] == "Conv2D"]
    assert [c["filters"] for c in convs] == [32 * 2**i for i in range(depth)]
    x = np.random.default_rng(0).random((2, 64, 64, 1), dtype=np.float32)
    z = ae.encoder.predict(x, verbose=0)
    y = ae.decoder.predict(z, verbose=0)
    assert y.shape == x.shape and (y >= 0).all() and (y <= 1).all()


def test_depth_that_does_not_divide_the_size_lists_valid_depths():
    with pytest.raises(AecryptError, match=r"depth 5 does not fit input size 200.*valid depths for 200: \[2, 3, 4\]"):
        models.build_autoencoder(200, 5)


@pytest.mark.parametrize(
    ("kind", "call"),
    [
        ("loss", lambda: choices.validate_loss("hinge")),
        ("optimizer", lambda: models.make_optimizer("adadelta")),
        ("activation", lambda: models.build_autoencoder(32, 2, "softplusx")),
    ],
)
def test_unknown_names_list_the_valid_choices(kind, call):
    plural = {"loss": "losses"}.get(kind, f"{kind}s")
    with pytest.raises(AecryptError, match=f"unknown {kind} .*valid {plural}: "):
        call()


def test_required_names_are_accepted():
    for loss in ("mse", "msle", "mae", "binary_crossentropy"):
        assert choices.validate_loss(loss.upper()) == loss
    for opt in ("adam", "adagrad", "rmsprop", "sgd"):
        assert type(models.make_optimizer(opt)).__name__.lower() == opt


def test_classifier_is_two_conv_pool_blocks_and_a_sigmoid_head():
    clf = models.build_classifier(32)
    types = [type(layer).__name__ for layer in clf.layers]
    assert types.count("Conv2D") == 2 and types.count("MaxPooling2D") == 2
    assert types[-1] == "Dense" and clf.layers[-1].activation.__name__ == "sigmoid"
    assert clf.output_shape == (None, 1)


BACKENDS = [b for b in ("jax", "torch") if __import__("importlib").util.find_spec(b)]


@pytest.mark.skipif(not BACKENDS, reason="no second Keras backend installed (pip install jax or torch)")
def test_models_train_on_a_second_backend():
    code = textwrap.dedent("""
        import numpy as np, keras
        from aecrypt.paper import models
        assert keras.backend.backend() != "tensorflow"
        ae = models.build_autoencoder(32, 3, "relu")
        models.compile_autoencoder(ae, "msle", "adagrad")
        x = np.random.default_rng(0).random((8, 32, 32, 1), dtype=np.float32)
        h = ae.autoencoder.fit(x, x, epochs=1, verbose=0)
        assert np.isfinite(h.history["loss"][0])
        clf = models.build_classifier(32)
        clf.fit(x, np.array([0, 1] * 4), epochs=1, verbose=0)
        print("ok", keras.backend.backend())
    """)
    env = dict(os.environ, KERAS_BACKEND=BACKENDS[0])
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"ok {BACKENDS[0]}" in out.stdout
