"""Profiles: how big a run is. The grid says which combinations; the profile says how big each is."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from aecrypt import UsageError
from aecrypt.budget import INFERRED_BATCH, INFERRED_SPLIT, PAPER_CHECKPOINTS, PAPER_EPOCHS, PAPER_IMAGES, Budget


@dataclass(frozen=True)
class Profile:
    name: str
    size: int  # images are size x size, grayscale
    n_images: int | None  # None: every image the data source has
    ae_epochs: int  # one training of this many epochs; Fig. 7 reads checkpoints from its history
    clf_epochs: int
    batch_size: int
    test_fraction: float
    val_fraction: float
    default_data: str
    default_grid: str  # file name in grids/
    description: str
    # Exact split sizes instead of the fractions above: train and val of these sizes (patient-wise on real
    # data), and a test split of n_test images or, where n_test is None, of every other image (forward passes
    # are cheap: the test split is as large as the data allows).
    n_train: int | None = None
    n_val: int | None = None
    n_test: int | None = None
    # How many phantoms a build on DATA=synthetic draws where n_images is None (phantoms have no end).
    phantoms: int = 900
    # Numerics: part of every run's identity, and reported by `make bench` before becoming a default.
    dtype_policy: str = "float32"  # Keras dtype policy, e.g. mixed_bfloat16
    jit_compile: bool = False  # XLA for the autoencoder's training step
    # How many training seeds (0, 1, ...) a build runs per combination; `aecrypt sweep --seeds` overrides.
    # Not part of a run's identity: adding a seed reruns nothing that exists.
    seeds: int = 3

    def __post_init__(self):
        if self.seeds < 1:
            raise UsageError(f"profile {self.name!r}: seeds must be at least 1, got {self.seeds}")
        if (self.n_train is None) != (self.n_val is None) or (self.n_test is not None and self.n_train is None):
            raise UsageError(f"profile {self.name!r}: give n_train and n_val (and n_test, or none: the rest), or none")
        if self.n_test is not None:
            object.__setattr__(self, "n_images", self.n_train + self.n_val + self.n_test)

    @property
    def split_counts(self) -> dict[str, int | None] | None:
        """Exact split sizes (test None: every other image), or None where the fractions split."""
        if self.n_train is None:
            return None
        return {"train": self.n_train, "val": self.n_val, "test": self.n_test}

    def images_for(self, data: str) -> int | None:
        """How many images a run loads from `data`: the profile's cap, or every image the source has (None);
        phantoms, which have no end, are drawn `phantoms` at a time."""
        if self.n_images is None and str(data) == "synthetic":
            return self.phantoms
        return self.n_images

    def budget(self, n_train: int) -> Budget:
        """The autoencoder's planned training length on `n_train` training images (steps, images seen)."""
        return Budget(n_train, self.ae_epochs, self.batch_size)

    @property
    def checkpoints(self) -> tuple[int, ...]:
        """The paper's 10/25/50 epoch checkpoints scaled to this profile's epochs."""
        scale = self.ae_epochs / PAPER_EPOCHS
        return tuple(sorted({max(1, round(c * scale)) for c in PAPER_CHECKPOINTS}))

    def with_overrides(self, overrides: dict | None) -> Profile:
        """This profile with some settings changed (e.g. {"n_images": 1000, "ae_epochs": 1} for a memory
        or GPU check at the paper's size); unknown keys are an error that lists the valid ones."""
        if not overrides:
            return self
        valid = sorted(f.name for f in fields(self) if f.name != "name")
        if unknown := set(overrides) - set(valid):
            raise UsageError(f"unknown profile setting(s) {sorted(unknown)}; valid: {', '.join(valid)}")
        counts = {"n_train", "n_val", "n_test"}
        if "n_images" in overrides and not counts & set(overrides):
            overrides = overrides | dict.fromkeys(counts)  # a new total replaces exact split sizes
        return replace(self, name=f"{self.name}+overrides", **overrides)

    @property
    def training_seeds(self) -> tuple[int, ...]:
        return tuple(range(self.seeds))

    def to_dict(self) -> dict:
        return asdict(self) | {"checkpoints": list(self.checkpoints)}

    def run_settings(self) -> dict:
        """The settings that can change one run's numbers (what its id hashes): not the number of seeds,
        the description or the defaults a sweep starts from."""
        skip = {"name", "seeds", "description", "default_data", "default_grid"}
        return {k: v for k, v in self.to_dict().items() if k not in skip}


# The paper's inferred batch size and split (aecrypt.budget) for every profile.
_COMMON = {"batch_size": INFERRED_BATCH, "clf_epochs": 20} | INFERRED_SPLIT


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="tiny",
            size=32,
            n_images=120,
            ae_epochs=2,
            default_data="synthetic",
            default_grid="tiny.yaml",
            description="tests and CI: seconds per run",
            **_COMMON | {"clf_epochs": 2, "batch_size": 16, "test_fraction": 0.25, "seeds": 1},
        ),
        # The embedded NIH set (1903 X-rays at 64²), sized by measurement to fit 15 minutes cold on 2 cores
        # without AVX-512 (Performance page: `make bench-cold`, `make bench-size`): 32² and 192 training images,
        # the most epochs that fit; the test split is every image not needed to train and validate.
        # DATA=synthetic draws as many phantoms as the set has.
        Profile(
            name="default",
            size=32,
            n_images=None,
            ae_epochs=25,
            default_data="nih-embedded",
            default_grid="paper.yaml",
            description="what `make book` runs: every paper combination on the embedded NIH X-rays, minutes on 2 cores",
            n_train=192,
            n_val=48,
            phantoms=1903,
            **_COMMON,
        ),
        Profile(
            name="paper",
            size=200,
            n_images=PAPER_IMAGES,
            ae_epochs=PAPER_EPOCHS,
            default_data="synthetic",
            default_grid="paper.yaml",
            description="the paper's scale: 200x200, 9000 images, 50 epochs (GPU territory); on synthetic phantoms "
            "unless DATA= names X-rays (the embedded set is 64x64, too small for it)",
            # Ten seeds: the calibration table (Calibration page) shows 3-5 seeds too few to decide the
            # best-combination and depth claims; 10 is where their power reaches the page's stated values.
            **_COMMON | {"seeds": 10},
        ),
        Profile(
            name="real",
            size=64,
            n_images=None,
            ae_epochs=10,
            default_data="nih-embedded",
            default_grid="paper.yaml",
            description="real X-rays, the paper's whole grid: the embedded NIH set at 64², or any --data you give",
            # Ten seeds, as for paper: decisive verdicts need them (Calibration page); default keeps 3 to fit
            # its 15-minute budget and says what it cannot decide.
            **_COMMON | {"seeds": 10},
        ),
    )
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}") from None


def as_profile(profile: Profile | str) -> Profile:
    """A profile given by name is looked up once, where it enters (a command, a sweep); below that it travels
    as the object."""
    return profile if isinstance(profile, Profile) else get_profile(profile)


def parse_seeds(text: str) -> tuple[int, ...]:
    """`--seeds`: a count N (the training seeds 0 .. N-1) or a comma-separated list of seeds (exactly those,
    e.g. `0,3,7`; a single seed as `5,`)."""
    text = str(text).strip()
    try:
        if "," in text:
            seeds = tuple(int(s) for s in text.split(",") if s.strip())
        else:
            n = int(text)
            if n < 1:
                raise ValueError
            seeds = tuple(range(n))
    except ValueError:
        raise UsageError(
            f"--seeds {text!r} is neither a count (a whole number >= 1: seeds 0..N-1) nor a comma-separated list "
            "of seeds (e.g. 0,3,7; one seed as 5,)"
        ) from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds {text!r}: give distinct seeds >= 0 (e.g. 0,1,2)")
    return tuple(sorted(seeds))
