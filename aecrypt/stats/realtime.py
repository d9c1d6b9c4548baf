"""Real time, judged from a stream's latencies: a rate is real time when every image arrives, the queue does
not grow, and the p99 end-to-end latency stays below the interval between images by its one-sided 95 %
distribution-free bound (the rule the link issue set)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aecrypt.stats.findings import NOT_TESTABLE, Finding
from aecrypt.stats.intervals import Interval, quantile_bound, quantile_interval, slope_interval

#: A rate is real time when the p99 end-to-end latency stays below the interval between images and the queue
#: does not grow (the rule the link issue set); the p99 is judged by its one-sided 95 % distribution-free bound.
REAL_TIME_QUANTILE = 0.99
YES, NO, CANNOT_TELL = "yes", "no", "cannot tell"


@dataclass
class RateCheck:
    """One stream of images at one rate (None: as fast as the link takes them) and whether it kept up."""

    rate: float | None
    sent: int
    received: int
    median: Interval  # ms, with its distribution-free 95 % interval
    p99: float  # ms
    p99_low: float  # one-sided 95 % lower bound (NaN: too few images)
    p99_high: float  # one-sided 95 % upper bound (NaN: too few images)
    slope: Interval  # ms of latency per s of stream: a growing queue shows as a rising latency
    real_time: str  # yes / no / cannot tell (saturation: "")
    why: str

    @property
    def interval_ms(self) -> float | None:
        return 1e3 / self.rate if self.rate else None


def rate_check(latency_ms, sent_at_s, rate: float | None, sent: int) -> RateCheck:
    """Judge one stream: every image arrived, the latency does not rise over the stream by more than one
    interval (slope's 95 % interval above 0), and the p99's 95 % upper bound is below the interval ("yes"), or
    its lower bound above it ("no"); otherwise "cannot tell", with the reason.

    Parameters
    ----------
    latency_ms : sequence of float or None
        Each sent image's end-to-end latency in ms; None or NaN for an image that never arrived.
    sent_at_s : sequence of float
        When each image was sent, in s, in the same order.
    rate : float or None
        The images per second the stream was sent at; None: as fast as the link takes them, measured for
        throughput with no verdict.
    sent : int
        The images sent.

    Returns
    -------
    RateCheck
        Images sent and received, the median latency with its 95 % interval, the p99 with its one-sided 95 %
        bounds (NaN where the images are too few: the upper needs 299), the latency's slope over the stream;
        `real_time` "yes", "no" or "cannot tell" ("" where `rate` is None) and `why`, in words.

    Examples
    --------
    400 images at 10 per second, latencies 5-11 ms:

    >>> latency = [5.0 + i % 7 for i in range(400)]
    >>> sent_at = [i / 10 for i in range(400)]
    >>> check = rate_check(latency, sent_at, rate=10, sent=400)
    >>> check.real_time, check.why
    ('yes', 'p99 ≤ 11.0 ms (95 % bound), within the 100 ms interval')
    >>> rate_check(latency[:-1] + [None], sent_at, rate=10, sent=400).why
    '1 of 400 images never arrived'
    >>> rate_check(latency[:50], sent_at[:50], rate=10, sent=50).real_time
    'cannot tell'
    """
    lat = np.asarray([np.nan if v is None else v for v in latency_ms], dtype=float)
    at = np.asarray(sent_at_s, dtype=float)
    ok = ~np.isnan(lat)
    lat, at = lat[ok], at[ok]
    received = len(lat)
    q = REAL_TIME_QUANTILE
    p99 = float(np.quantile(lat, q)) if received else math.nan
    low, high = quantile_bound(lat, q, "lower"), quantile_bound(lat, q, "upper")
    slope = slope_interval(at, lat)
    check = RateCheck(rate, sent, received, quantile_interval(lat, 0.5), p99, low, high, slope, "", "")
    if rate is None:
        check.why = "as fast as the link takes them: throughput, not a deadline"
        return check
    interval = check.interval_ms
    duration = float(at.max() - at.min()) if received > 1 else 0.0
    if received < sent:
        check.real_time, check.why = NO, f"{sent - received} of {sent} images never arrived"
    elif slope.low > 0 and slope.estimate * duration > interval:
        rise = slope.estimate * duration
        check.real_time, check.why = NO, f"latency rises by {rise:.0f} ms over the stream: the queue grows"
    elif low > interval:
        check.real_time, check.why = NO, f"p99 ≥ {low:.1f} ms (95 % bound), past the {interval:.0f} ms interval"
    elif high < interval:
        check.real_time, check.why = YES, f"p99 ≤ {high:.1f} ms (95 % bound), within the {interval:.0f} ms interval"
    elif math.isnan(high):
        check.real_time = CANNOT_TELL
        check.why = f"{received} images: a 95 % bound on the p99 needs at least 299 (largest {lat.max():.1f} ms)"
    else:
        check.real_time = CANNOT_TELL
        check.why = f"the p99's 95 % bounds [{low:.1f}, {high:.1f}] ms straddle the {interval:.0f} ms interval"
    return check


def fastest_real_time(checks: list[RateCheck]) -> float | None:
    """The highest measured rate judged real time ("yes") below which no rate was judged "no".

    Parameters
    ----------
    checks : list of RateCheck
        One per rate, in any order; those without a rate (as fast as the link takes them) are ignored.

    Returns
    -------
    float or None
        That rate in images per second; None where the slowest rate judged is "no" or none is "yes".

    Examples
    --------
    >>> latency = [5.0 + i % 7 for i in range(400)]
    >>> checks = [rate_check(latency, [i / r for i in range(400)], r, 400) for r in (1, 10, 100, 1000)]
    >>> [(c.rate, c.real_time) for c in checks]
    [(1, 'yes'), (10, 'yes'), (100, 'no'), (1000, 'no')]
    >>> fastest_real_time(checks)
    10
    """
    rated = sorted((c for c in checks if c.rate), key=lambda c: c.rate)
    best = None
    for check in rated:
        if check.real_time == NO:
            break
        if check.real_time == YES:
            best = check.rate
    return best


def real_time(verdict_by_stream: dict[str, list[RateCheck]], size: int, wire: str, machine: str) -> Finding:
    """'… for Real Time Using IoT' (the title): measured on this build's link, reported with the machine named;
    no verdict on the paper, which names no image rate, deadline or link.

    Parameters
    ----------
    verdict_by_stream : dict of str to list of RateCheck
        Per stream (what was sent, e.g. a cipher), its checks at each rate.
    size : int
        The image side the streams sent, in pixels.
    wire : str
        A sentence on the bytes per image and the links, appended to what was measured.
    machine : str
        The machine the streams ran on, in words.

    Returns
    -------
    Finding
        "not testable here", with each stream's fastest real-time rate (`fastest_real_time`) as what was
        measured and as the effect.

    Examples
    --------
    >>> latency = [5.0 + i % 7 for i in range(400)]
    >>> checks = [rate_check(latency, [i / r for i in range(400)], r, 400) for r in (1, 10, 100)]
    >>> finding = real_time({"paper cipher": checks}, 32, "1,024 bytes per image.", "a laptop")
    >>> finding.verdict
    'not testable here (the paper names no rate, deadline or link)'
    >>> finding.measured
    'Real time on loopback at 32², on a laptop: paper cipher: up to 10 images/s. 1,024 bytes per image.'
    """
    parts = []
    for name, checks in verdict_by_stream.items():
        fastest = fastest_real_time(checks)
        parts.append(f"{name}: {'up to ' + format(fastest, 'g') + ' images/s' if fastest else 'at no measured rate'}")
    return Finding(
        "real time using IoT",
        "title",
        "p99 end-to-end latency (encode → decrypt → classify) below the interval between images at 1, 10 and 100 "
        "images/s, by its one-sided 95 % distribution-free bound, nothing lost, no growing queue; bytes per image "
        "on 250 kbit/s – 10 Mbit/s links",
        f"Real time on loopback at {size}², on {machine}: " + "; ".join(parts) + f". {wire}",
        f"{NOT_TESTABLE} (the paper names no rate, deadline or link)",
        decide="an image rate and deadline from the paper, which names none; the link page holds any you choose",
        effect="; ".join(parts),
    )
