"""Profiles: how big a run is. The grid says which combinations; the profile says how big each is."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from . import AecryptError, paths

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


_COMMON = {"batch_size": 32, "test_fraction": 0.2, "val_fraction": 0.15, "clf_epochs": 20}


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
            **_COMMON | {"clf_epochs": 2, "batch_size": 16, "test_fraction": 0.25},
        ),
        Profile(
            name="default",
            size=64,
            n_images=600,
            ae_epochs=10,
            default_data="synthetic",
            default_grid="paper.yaml",
            description="what `make book` runs: every paper combination on synthetic phantoms, minutes on 2 cores",
            **_COMMON,
        ),
        Profile(
            name="paper",
            size=200,
            n_images=9000,
            ae_epochs=50,
            default_data="synthetic",
            default_grid="paper.yaml",
            description="the paper's scale: 200x200, 9000 images, 50 epochs (GPU territory)",
            **_COMMON,
        ),
        Profile(
            name="real",
            size=64,
            n_images=None,
            ae_epochs=10,
            default_data=f"folder:{paths.SHARED_DATA / 'cxr-real-128'}",
            default_grid="smoke.yaml",
            description="real X-rays: the shared NIH sample, or any --data you give",
            **_COMMON,
        ),
    )
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise AecryptError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}") from None
