"""The old import path of the paper's cipher, kept for one release so that student notebooks handed out
before the layout changed still run: it warns, and gives what `aecrypt.paper.cipher` (and, for
`AeadCipher`, `aecrypt.link.aead`) give."""

import warnings

from aecrypt.paper.cipher import *  # noqa: F403
from aecrypt.paper.cipher import CipherDomainWarning, PaperCipher, key_from_image, key_from_seed  # noqa: F401

warnings.warn(
    "aecrypt.cipher is now aecrypt.paper.cipher (AeadCipher: aecrypt.link.aead); the old path goes in the next release",
    FutureWarning,
    stacklevel=2,
)


def __getattr__(name: str):
    if name == "AeadCipher":  # the link's cipher, imported only when asked for
        from aecrypt.link.aead import AeadCipher

        return AeadCipher
    raise AttributeError(f"module 'aecrypt.cipher' has no attribute {name!r}")
