"""Profiles: how big a run is. The grid says which combinations; the profile says how big each is."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from . import AecryptError

#: The paper reports the autoencoder loss after these epochs (Fig. 7).
PAPER_CHECKPOINTS = (10, 25, 50)


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

    @property
    def checkpoints(self) -> tuple[int, ...]:
        """The paper's 10/25/50 epoch checkpoints scaled to this profile's epochs."""
        scale = self.ae_epochs / PAPER_CHECKPOINTS[-1]
        return tuple(sorted({max(1, round(c * scale)) for c in PAPER_CHECKPOINTS}))

    def to_dict(self) -> dict:
        return asdict(self) | {"checkpoints": list(self.checkpoints)}


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("tiny", 32, 120, 2, 2, 16, 0.25, 0.15, "synthetic", "tiny.yaml", "tests and CI: seconds per run"),
        Profile(
            "default",
            64,
            600,
            10,
            20,
            32,
            0.2,
            0.15,
            "synthetic",
            "paper.yaml",
            "what `make book` runs: every paper combination on synthetic phantoms, minutes on 2 cores",
        ),
        Profile(
            "paper",
            200,
            9000,
            50,
            20,
            32,
            0.2,
            0.15,
            "synthetic",
            "paper.yaml",
            "the paper's scale: 200x200, 9000 images, 50 epochs (GPU territory)",
        ),
        Profile(
            "real",
            64,
            None,
            10,
            20,
            32,
            0.2,
            0.15,
            "folder:../shared/data/cxr-real-128",
            "smoke.yaml",
            "real X-rays: the shared NIH sample, or any --data you give",
        ),
    )
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise AecryptError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}") from None
