"""The old import path of the intervals and power calculations, kept for one release so that student
notebooks handed out before the layout changed still run: it warns, and gives what `aecrypt.stats.intervals`
and `aecrypt.stats.power` give."""

import warnings

from aecrypt.stats.intervals import *  # noqa: F403
from aecrypt.stats.intervals import Interval, auc_interval, delong_auc, t_interval  # noqa: F401
from aecrypt.stats.power import *  # noqa: F403
from aecrypt.stats.power import auc_variance, paired_auc_power, paired_auc_test_size  # noqa: F401

warnings.warn(
    "aecrypt.statistics is now aecrypt.stats.intervals and aecrypt.stats.power; the old path goes in the next release",
    FutureWarning,
    stacklevel=2,
)
