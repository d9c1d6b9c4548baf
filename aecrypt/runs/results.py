"""One profile's results as pages and tools read them: summary.csv, plan.json, and the run folders they
point to. Reading only; the tests of the claims and the pages' sentences are built on it elsewhere."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from aecrypt import UsageError, paths
from aecrypt.files import read_json
from aecrypt.paths import RUN_FILES
from aecrypt.profiles import Profile, get_profile
from aecrypt.runs.table import best_combination


@dataclass
class Results:
    """The results of one profile: summary.csv and the run folders it points to."""

    profile: str
    root: Path

    @classmethod
    def current(cls) -> Results:
        """The build's profile and results folder (set by `aecrypt book` / `make book`)."""
        return cls(os.environ.get("AECRYPT_PROFILE", "default"), paths.results_root())

    @cached_property
    def summary(self) -> pd.DataFrame:
        path = paths.summary_csv(self.profile, self.root)
        if not path.is_file():
            raise UsageError(f"no results table at {path}; run `make sweep PROFILE={self.profile}` first")
        return pd.read_csv(path, keep_default_na=False, na_values=[""])

    @property
    def ok(self) -> pd.DataFrame:
        """Finished runs: one row per combination and training seed."""
        return self.summary[self.summary["status"] == "ok"].reset_index(drop=True)

    @property
    def seeds(self) -> list[int]:
        """The training seeds of the finished runs."""
        return sorted(int(s) for s in self.ok["seed"].dropna().unique())

    @property
    def data_seed(self) -> int:
        return int(self.ok["data_seed"].iloc[0]) if "data_seed" in self.ok and len(self.ok) else 0

    @property
    def labels(self) -> list[str]:
        """The combinations with at least one finished run, in grid order."""
        return list(dict.fromkeys(self.ok["label"]))

    def mean_by_combination(self, metric: str) -> pd.Series:
        return self.ok.groupby("label", sort=False)[metric].mean()

    def runs_of(self, label: str) -> pd.DataFrame:
        return self.ok[self.ok["label"] == label].sort_values("seed")

    @cached_property
    def plan(self) -> dict:
        """The sweep's plan.json (its size, seeds and skipped combinations); empty before a sweep."""
        return read_json(paths.plan_json(self.profile, self.root))

    @property
    def settings(self) -> Profile:
        """The profile as this build ran it: at a smaller image size when the images were smaller."""
        p = get_profile(self.profile)
        size = self.plan.get("size") or p.size
        return p if size == p.size else replace(p, size=size)

    def run_dir(self, run_id: str) -> Path:
        return paths.runs_dir(self.profile, self.root) / run_id

    def _csv(self, run_id: str, name: str, **kwargs) -> pd.DataFrame:
        return pd.read_csv(self.run_dir(run_id) / name, **kwargs)

    def scores(self, run_id: str) -> pd.DataFrame:
        return self._csv(run_id, RUN_FILES.scores)

    def history(self, run_id: str) -> pd.DataFrame:
        return self._csv(run_id, RUN_FILES.history)

    def roc(self, run_id: str) -> pd.DataFrame:
        return self._csv(run_id, RUN_FILES.roc)

    def confusion(self, run_id: str) -> pd.DataFrame:
        return self._csv(run_id, RUN_FILES.confusion, index_col=0)

    def samples(self, run_id: str) -> dict[str, np.ndarray]:
        with np.load(self.run_dir(run_id) / RUN_FILES.samples) as z:
            return dict(z)

    def run_json(self, run_id: str, name: str) -> dict:
        return read_json(self.run_dir(run_id) / name)

    def metrics(self, run_id: str) -> dict:
        return self.run_json(run_id, RUN_FILES.metrics)

    def env(self) -> dict:
        """The environment of the build's first finished run ({} before any)."""
        return self.run_json(self.ok["run_id"].iloc[0], RUN_FILES.env) if len(self.ok) else {}

    @property
    def data_spec(self) -> str:
        specs = self.ok["data"].unique()
        return str(specs[0]) if len(specs) else str(self.summary["data"].dropna().iloc[0])

    @property
    def is_synthetic(self) -> bool:
        return self.data_spec == "synthetic"

    def data_summary(self) -> dict:
        if self.ok.empty:
            raise UsageError(f"no finished run in profile {self.profile!r}")
        return self.run_json(self.ok["run_id"].iloc[0], RUN_FILES.data)

    def best(self, metric: str, lowest: bool) -> pd.Series:
        """The best combination by mean `metric` over its seeds (`table.best_combination`), as its run at the
        lowest seed (the one pages show as an example); `label` names the combination."""
        label = best_combination(self.summary, metric, lowest)
        if label is None:
            raise UsageError(f"no finished run in profile {self.profile!r}")
        return self.runs_of(label).iloc[0]

    @property
    def best_autoencoder(self) -> pd.Series:
        return self.best("mse", lowest=True)

    @property
    def best_classifier(self) -> pd.Series:
        return self.best("auc", lowest=False)
