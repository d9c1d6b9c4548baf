"""The book's colours, one palette for every figure: the style file's Okabe-Ito cycle (colour-blind safe) for
categories, one sequential map for ordered values and counts, and greys for references (the paper's own
models, the originals' classifier)."""

from __future__ import annotations

import matplotlib

from aecrypt import paths

#: Ordered settings and counts: the confusion matrix, the bottleneck's channel count k.
SEQUENTIAL = "Blues"


def categorical() -> list[str]:
    """The style's colour cycle, read from the style file itself (whichever style is active)."""
    rc = matplotlib.rc_params_from_file(str(paths.STYLE), use_default_template=False)
    return [f"#{c}" if not str(c).startswith("#") else c for c in rc["axes.prop_cycle"].by_key()["color"]]
