"""Data specs: one string names a source everywhere (the CLI, grid files, papermill parameters):
`synthetic`, `nih:DIR[?finding=NAME]`, `folder:DIR[?negative=NAME[,NAME]&positive=NAME[,NAME]]`,
`medmnist:FILE.npz`, `dicom:DIR`. Parsing checks the form and makes paths absolute; it reads no file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from aecrypt import UsageError

KINDS = ("nih-embedded", "synthetic", "nih", "folder", "medmnist", "dicom")
#: Sources that take no path: the embedded NIH set and the phantoms.
BUILT_IN = ("nih-embedded", "synthetic")
SPEC_HELP = (
    "nih-embedded | synthetic | nih:DIR[?finding=NAME] | folder:DIR[?negative=NAME[,NAME]&positive=NAME[,NAME]] | "
    "medmnist:FILE.npz | dicom:DIR"
)


_EXAMPLES = {"finding": "Pneumonia", "negative": "NORMAL", "positive": "PNEUMONIA"}  # for the error messages


@dataclass(frozen=True)
class Spec:
    kind: str
    path: Path | None = None
    options: dict = field(default_factory=dict)

    def __str__(self) -> str:
        if self.path is None:
            return self.kind
        query = "&".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return f"{self.kind}:{self.path}" + (f"?{query}" if query else "")


def parse_spec(spec: str) -> Spec:
    """Parse (and make absolute) a data spec; errors list the valid forms.

    Parameters
    ----------
    spec : str
        One of `SPEC_HELP`'s forms: `nih-embedded`, `synthetic`, `nih:DIR[?finding=NAME]`,
        `folder:DIR[?negative=NAME[,NAME]&positive=NAME[,NAME]]`, `medmnist:FILE.npz` or `dicom:DIR`.
        Surrounding blanks are ignored; `~` is expanded. The path is not checked for existence.

    Returns
    -------
    Spec
        The kind, the absolute path (None for `nih-embedded` and `synthetic`) and the options given after
        `?`; `str()` of it is the spec in its canonical form.

    Raises
    ------
    UsageError
        For an unknown kind (a bare folder or .npz file gets a suggestion), a built-in source given a path, a
        path missing, or an option unknown, repeated or empty.

    Examples
    --------
    >>> parse_spec("synthetic")
    Spec(kind='synthetic', path=None, options={})
    >>> spec = parse_spec("nih:xrays?finding=Pneumonia")
    >>> spec.kind, spec.path.is_absolute(), spec.options
    ('nih', True, {'finding': 'Pneumonia'})
    """
    text = str(spec).strip()
    kind, _, rest = text.partition(":")
    if kind not in KINDS:
        guess = Path(text).expanduser()
        if guess.is_dir():  # a bare folder: the kind of source is not guessed, but named
            raise UsageError(f"data source {text!r} has no kind; did you mean folder:{guess} (or nih:{guess})?")
        if guess.suffix == ".npz" and guess.is_file():
            raise UsageError(f"data source {text!r} has no kind; did you mean medmnist:{guess}?")
        raise UsageError(f"unknown data source {text!r}; valid: {SPEC_HELP}")
    if kind in BUILT_IN:
        if rest:
            raise UsageError(f"{kind!r} takes no argument (got {text!r}); size and seed come from the profile")
        return Spec(kind)
    location, _, query = rest.partition("?")
    if not location:
        raise UsageError(f"{kind}: needs a path, e.g. {kind}:/data/xrays; valid: {SPEC_HELP}")
    raw = parse_qs(query, keep_blank_values=True)
    allowed = {"nih": {"finding"}, "folder": {"negative", "positive"}}.get(kind, set())
    if bad := set(raw) - allowed:
        raise UsageError(f"{kind}: unknown option(s) {sorted(bad)}; valid: {sorted(allowed) or 'none'}")
    for key, values in raw.items():
        if len(values) > 1:
            raise UsageError(f"{kind}: {key} is given {len(values)} times; give it once, names separated by commas")
        if not values[0].strip(" ,"):
            raise UsageError(f"{kind}: {key}= has no value; give a name (e.g. {key}={_EXAMPLES[key]}) or leave it out")
    options = {k: v[0] for k, v in raw.items()}
    return Spec(kind, Path(location).expanduser().resolve(), options)
