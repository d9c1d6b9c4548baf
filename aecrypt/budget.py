"""The paper's training budget, defined once: what every trained-model result is relative to.

The paper states the data (9000 chest X-rays) and the training length (50 epochs, with the loss reported at
10, 25 and 50). It does not state the batch size or how the 9000 were split. Two inferences complete it, each
named where it is used:

- ``INFERRED_BATCH`` = 32, Keras's default for ``fit`` and what the paper's code-like description implies;
- ``INFERRED_SPLIT``: 20 % of the images test, 15 % validate (the split the ``paper`` profile uses too), so the
  autoencoder trains on 5,850 images: 183 steps per epoch, 9,150 optimizer steps over 50 epochs.

Were all 9000 images used to train the autoencoder, the budget would be 14,100 steps (``PAPER_STEPS_UPPER``);
the lower end is the one the claims are held to.

>>> paper_budget().steps
9150
>>> budget_line(60)
"trained for 60 steps, 0.66 % of the paper's 9,150"
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Stated by the paper (Sec. 4): the data set's size and the autoencoder's epochs, reported at 10/25/50.
PAPER_IMAGES = 9000
PAPER_CHECKPOINTS = (10, 25, 50)
PAPER_EPOCHS = PAPER_CHECKPOINTS[-1]
#: Inferred (not stated): the batch size.
INFERRED_BATCH = 32
#: Inferred (not stated): the test share, and the validation share of what is left.
INFERRED_SPLIT = {"test_fraction": 0.2, "val_fraction": 0.15}


@dataclass(frozen=True)
class Budget:
    """A training length in optimizer steps and images seen."""

    images: int  # training images
    epochs: int
    batch_size: int

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.images / self.batch_size)

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def images_seen(self) -> int:
        return self.epochs * self.images


def training_images(n_images: int, test_fraction: float, val_fraction: float) -> int:
    """How many of `n_images` train once the test and validation shares (both of the whole) are taken, as
    `data.splits.split_indices` splits by fractions."""
    return n_images - round(n_images * test_fraction) - round(n_images * val_fraction)


def paper_budget() -> Budget:
    """The paper's autoencoder budget at the inferred batch size and split (the lower end of its range)."""
    images = training_images(PAPER_IMAGES, **INFERRED_SPLIT)
    return Budget(images, PAPER_EPOCHS, INFERRED_BATCH)


PAPER_STEPS = paper_budget().steps
#: The upper end: every one of the 9000 images trains the autoencoder.
PAPER_STEPS_UPPER = Budget(PAPER_IMAGES, PAPER_EPOCHS, INFERRED_BATCH).steps


def share(steps: float) -> float:
    """`steps` as a fraction of the paper's budget."""
    return float(steps) / PAPER_STEPS


def percent(steps: float) -> str:
    """`steps` as a percentage of the paper's budget, with the digits that matter below 1 %."""
    p = 100 * share(steps)
    return f"{p:.2g} %" if p < 10 else f"{p:.0f} %"


def budget_line(steps: float) -> str:
    """The sentence every trained-model result carries: 'trained for N steps, P % of the paper's S'."""
    return f"trained for {int(round(steps)):,} steps, {percent(steps)} of the paper's {PAPER_STEPS:,}"
