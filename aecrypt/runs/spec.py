"""What one run is: its parameters (a `RunSpec`, with its profile as an object), the notebook template that
runs them, and the spec of a run made by hand, read back from its folder."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from aecrypt import UsageError, paths
from aecrypt.files import read_json
from aecrypt.paper import choices
from aecrypt.profiles import Profile, as_profile

#: The notebooks a run can execute (in notebooks/): one combination, or the shared baseline.
TEMPLATES = ("experiment", "baseline")
BASELINE_PARAMETERS = ("profile", "data", "seed", "data_seed", "codec")
_NOT_PARAMETERS = ("note", "template", "size")


@dataclass(frozen=True)
class RunSpec:
    """The parameters of one run, as its template notebook takes them. `profile` may be given by name; it is
    looked up once, here, and travels as the `Profile` from then on."""

    profile: Profile
    data: str
    loss: str = ""
    optimizer: str = ""
    depth: int = 0
    activation: str = "relu"
    seed: int = 0  # the training seed: initial weights and data order; varies across a build's seeds
    key_image: str = ""
    data_seed: int = 0  # phantoms, the split and the paper-cipher key: fixed per build
    with_cipher: bool = True  # False: the reference run that decodes latents without the cipher
    bottleneck: int = 0  # channels of the bottleneck variant's latent (0: the paper's latent)
    codec: str = ""  # a baseline on a codec's decoded images (e.g. "webp:37"); empty: on the originals
    size: int = 0  # image side when the build's images are smaller than the profile's (0: the profile's)
    note: str = ""  # why this combination is in the grid (not hashed: it does not change the result)
    template: str = "experiment"

    def __post_init__(self):
        object.__setattr__(self, "profile", as_profile(self.profile))

    @classmethod
    def baseline(
        cls, profile: Profile | str, data: str, seed: int, data_seed: int = 0, size: int = 0, codec: str = ""
    ) -> RunSpec:
        """The classifier on the original images, shared by every combination of (data, profile, training
        seed, data seed) of a build; with `codec`, on what that codec gives back of them."""
        return cls(
            profile, data, activation="", seed=seed, data_seed=data_seed, size=size, codec=codec, template="baseline"
        )

    @property
    def is_baseline(self) -> bool:
        return self.template == "baseline"

    @property
    def label(self) -> str:
        """The combination (what results aggregate over seeds by); the baseline's names the images."""
        if self.is_baseline:
            return f"{self.codec} images" if self.codec else "original images"
        return choices.combination_label(self.loss, self.optimizer, self.activation, self.depth, self.bottleneck)

    @property
    def run_label(self) -> str:
        """One run: the combination, its training seed, and "no cipher" for the reference runs."""
        extra = "" if self.with_cipher else " · no cipher"
        return f"{self.label} · seed {self.seed}{extra}"

    @property
    def image_size(self) -> int:
        return self.size or self.profile.size

    def parameters(self) -> dict:
        """What papermill passes to the template (and what the id hashes): the profile by name. A smaller image
        size, a bottleneck and a codec travel only when set (the templates' defaults are none of them)."""
        params = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_PARAMETERS}
        params["profile"] = self.profile.name
        if self.is_baseline:
            params = {k: params[k] for k in BASELINE_PARAMETERS}
        for optional in ("bottleneck", "codec"):
            if not params.get(optional):
                params.pop(optional, None)
        return params | ({"overrides": {"size": self.size}} if self.size else {})

    def entry(self, run_id: str) -> dict:
        """The run as plan.json and added.json list it."""
        return {
            "run_id": run_id,
            **self.parameters(),
            "note": self.note,
            "label": self.label,
            "run_label": self.run_label,
        }


def template_path(name: str) -> Path:
    if name not in TEMPLATES:
        raise UsageError(f"unknown run template {name!r}; valid: {', '.join(TEMPLATES)}")
    return paths.NOTEBOOKS / f"{name}.ipynb"


def spec_from_run_folder(folder: Path) -> RunSpec:
    """Recover the spec of a run made by hand (papermill ... -p output_dir FOLDER) from its config.json."""
    config = folder / paths.RUN_FILES.config
    if not config.is_file():
        raise UsageError(f"{folder} is not a finished run: it has no config.json (the template's last cell writes it)")
    cfg = read_json(config)
    overrides = dict(cfg.get("overrides") or {})
    size = int(overrides.pop("size", 0))  # the build's smaller image size is a setting a sweep makes too
    if overrides:
        raise UsageError(
            f"{folder} was run with profile overrides {cfg['overrides']}: its numbers are not comparable with the "
            f"{cfg['profile']!r} sweep; rerun it without overrides (other than size) to add it"
        )
    required = [n for n in paths.RUN_FILES.required if n != paths.RUN_FILES.params]
    if missing := [n for n in required if not (folder / n).is_file()]:
        raise UsageError(f"{folder} lacks {missing}; rerun the notebook to the end")
    choices.validate_loss(cfg["loss"])
    return RunSpec(
        cfg["profile"],
        cfg["data"],
        cfg["loss"],
        cfg["optimizer"],
        int(cfg["depth"]),
        cfg["activation"],
        seed=int(cfg["seed"]),
        key_image=cfg.get("key_image", ""),
        data_seed=int(cfg.get("data_seed", 0)),
        with_cipher=bool(cfg.get("with_cipher", True)),
        bottleneck=int(cfg.get("bottleneck", 0)),
        size=size,
        note="added by hand",
    )
