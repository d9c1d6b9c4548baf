"""What one run is: its parameters (a `RunSpec`, with its profile as an object), the notebook template that
runs them, and the spec of a run made by hand, read back from its folder."""

from __future__ import annotations

from dataclasses import make_dataclass
from pathlib import Path

from aecrypt import UsageError, paths
from aecrypt.files import read_json
from aecrypt.paper import parameters
from aecrypt.profiles import Profile, as_profile

#: The notebooks a run can execute (in notebooks/): one combination, or the shared baseline.
TEMPLATES = ("experiment", "baseline")


class _Spec:
    """The methods of `RunSpec`, whose run parameters come from `paper.parameters.PARAMETERS`."""

    def __post_init__(self):
        object.__setattr__(self, "profile", as_profile(self.profile))
        for name in parameters.PARAMETERS:
            if name != "profile":
                object.__setattr__(self, name, parameters.coerce(name, getattr(self, name)))

    @classmethod
    def baseline(
        cls, profile: Profile | str, data: str, seed: int, data_seed: int = 0, size: int = 0, codec: str = ""
    ) -> RunSpec:
        """The classifier on the original images, shared by every combination of (data, profile, training
        seed, data seed) of a build; with `codec`, on what that codec gives back of them."""
        return cls(profile, data, seed=seed, data_seed=data_seed, size=size, codec=codec, template="baseline")

    @property
    def is_baseline(self) -> bool:
        return self.template == "baseline"

    @property
    def label(self) -> str:
        """The combination (what results aggregate over seeds by); the baseline's names the images."""
        if self.is_baseline:
            return f"{self.codec} images" if self.codec else "original images"
        return parameters.label(vars(self))

    @property
    def run_label(self) -> str:
        """One run: the combination, its training seed, and "no cipher" for the reference runs."""
        extra = "" if self.with_cipher else " · no cipher"
        return f"{self.label} · seed {self.seed}{extra}"

    @property
    def image_size(self) -> int:
        return self.size or self.profile.size

    def parameters(self) -> dict:
        """What papermill passes to the template (and what the id hashes): the template's parameters
        (`paper.parameters.given`: optional ones only when set), the profile by name, and a smaller image size
        as an override."""
        params = parameters.given(vars(self) | {"profile": self.profile.name}, self.template)
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


#: The parameters of one run, as its template notebook takes them (`paper.parameters`), and what a sweep adds:
#: the image size when the build's images are smaller than the profile's (0: the profile's), why the
#: combination is in the grid (`note`, not hashed) and the template. `profile` may be given by name; it is
#: looked up once and travels as the `Profile` from then on. Parameters a template does not take keep their
#: defaults and are not passed.
RunSpec = make_dataclass(
    "RunSpec",
    parameters.fields(
        first={"profile": Profile, "data": str},
        last=[("size", int, 0), ("note", str, ""), ("template", str, "experiment")],
    ),
    bases=(_Spec,),
    frozen=True,
)
RunSpec.__module__ = __name__  # where pickle finds it (a process pool's workers, dask)


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
    values = {n: parameters.coerce(n, cfg[n]) for n in parameters.names("experiment") if n in cfg}
    return RunSpec(**values, size=size, note="added by hand")
