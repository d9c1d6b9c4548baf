"""How long a sweep takes before it runs: every planned run's seconds, scaled from measured stage costs (per
depth, each stage of a run as the sweep runs it, at the design they were measured at: a cold build's own runs,
`make bench-cold`, or `make bench-stages`' six) to the design asked for, and the runs laid on the workers in the
sweep's own order. It sizes the default profile (`make bench-size`, the Performance page's *The default's
budget*).

What scales, and with what:

* the autoencoder: an epoch costs what the measured epochs after the first cost on average (the stage's time
  after its first epoch), times the ratio of optimizer steps per epoch; what the first epoch costs beyond that
  (tracing the training step, building the model) is fixed;
* retrieval: the measured seconds times the ratio of images it passes (every split);
* the classifier: the measured seconds times the ratio of its training images × epochs (scoring the test split
  is a small part of it at the default's size);
* start-up, loading the data, the metrics and writing the run's files: fixed.

The image size cannot change (convolutions' cost is not linear in it): a design at another size needs a stages
record measured at that size. The reference runs (no cipher), planned once the best combination is known, are
counted at the paper's depth and laid after the sweep's runs, as the sweep runs them.

>>> costs = StageCosts.from_record(EXAMPLE_RECORD)
>>> round(costs.run_seconds(3, steps_per_epoch=6, epochs=10, images=1903, classifier_work=1.0), 1)
28.9
"""

from __future__ import annotations

import heapq
import json
import math
from dataclasses import dataclass

from aecrypt import UsageError
from aecrypt.paper.reported import PROPOSED_DEPTH
from aecrypt.profiles import Profile

#: The cold `make book` a fresh clone should take on a 2-core laptop without AVX-512 (the README's first command).
COLD_BOOK_TARGET_S = 15 * 60
#: How a design runs depth 5 (the sizing's "depth 5" column): as the paper's grid does, or at training seed 0 only.
EVERY_SEED, ONE_SEED = "every seed", "seed 0 only"
#: The stages record's variant that the sweep runs as (warm kernels).
VARIANT = "warm kernels"
_FIXED = ("startup", "data", "metrics", "files and hand-back")


@dataclass(frozen=True)
class StageCosts:
    """Per depth (0: the baseline) the stages record's row, and the design it was measured at."""

    rows: dict[int, dict]
    design: dict
    cpu: dict

    @classmethod
    def from_record(cls, record: dict, variant: str = VARIANT) -> StageCosts:
        """From a `make bench-stages` record (results/stages.json); one that predates the fields sizing needs
        is refused with what to run."""
        rows = {}
        for row in record.get("stages", []):
            if row["variant"] == variant:
                rows[0 if row["depth"] == "baseline" else int(row["depth"])] = row
        needed = ("autoencoder", "ae first epoch", "ae steps per epoch", "images retrieved")
        trained = [row for depth, row in rows.items() if depth]
        if "design" not in record or not trained or any(k not in row for row in trained for k in needed):
            raise UsageError("the stages record has no per-epoch costs or no design: run `make bench-stages` first")
        return cls(rows, record["design"], record.get("cpu", {}))

    def _row(self, depth: int) -> dict:
        if depth not in self.rows:
            measured = ", ".join(str(d) for d in sorted(self.rows) if d)
            raise UsageError(f"depth {depth} is not in the stages record (measured: {measured}); add it to its grid")
        return self.rows[depth]

    def run_seconds(self, depth: int, steps_per_epoch: int, epochs: int, images: int, classifier_work: float) -> float:
        """One run's seconds: an autoencoder of `depth` trained `epochs` epochs of `steps_per_epoch` steps,
        `images` retrieved, and the classifier's training work as a ratio of the measured one (depth 0: the
        baseline, the classifier alone)."""
        row = self._row(depth)
        # the baseline's row has no metrics or files (NaN)
        fixed = sum(v for k in _FIXED if (v := row.get(k)) is not None and math.isfinite(v))
        classifier = row["classifier"] * classifier_work
        if depth == 0:
            return fixed + classifier
        # the measured stage, not its median epoch: it holds building the model and the slow epochs too
        later = (row["autoencoder"] - row["ae first epoch"]) / max(self.design["ae_epochs"] - 1, 1)
        trace = row["ae first epoch"] - later
        autoencoder = trace + epochs * later * steps_per_epoch / row["ae steps per epoch"]
        retrieve = row["retrieve"] * images / row["images retrieved"]
        return fixed + autoencoder + retrieve + classifier


def cold_builds(profile: str, root=None, design: dict | None = None) -> list[dict]:
    """The cold `make book`s of `profile` timed step by step that finished (`make bench-cold`,
    results/coldbook.json), oldest first; a build that failed is kept there, but its times are no build's. With
    `design` (a profile's `run_settings`), those of that design only: a larger design timed from a scratch commit
    (the next size up) is not the profile's own build."""
    from aecrypt import paths
    from aecrypt.files import read_json

    wanted = None if design is None else as_recorded(design)
    builds = (read_json(paths.coldbook_json(root)) or {}).get("builds", [])
    return [
        b
        for b in builds
        if b["profile"] == profile and not b["status"] and (wanted is None or b.get("design") == wanted)
    ]


def as_recorded(design: dict) -> dict:
    """A profile's `run_settings` as results/coldbook.json keeps a build's design (JSON: lists, not tuples)."""
    return json.loads(json.dumps(design))


def predicted_for(designs: list[dict], design: dict) -> dict | None:
    """The sizing record's row (`make bench-size`) for a run `design` (`run_settings`, as recorded or not), as the
    paper grid runs it: depth 5 at every seed, and every other image to test where the design sets no test size."""
    every_other = max((p["test images"] for p in designs), default=None)
    key = (design.get("ae_epochs"), design.get("n_train"), design.get("n_test") or every_other, EVERY_SEED)
    return next(
        (p for p in designs if (p["epochs"], p["training images"], p["test images"], p["depth 5"]) == key), None
    )


def last_cold_build(profile: str, root=None, design: dict | None = None) -> dict | None:
    """The last of `cold_builds(profile, root, design)`, or None."""
    return (cold_builds(profile, root, design) or [None])[-1]


def cold_build_rows(builds: list[dict], design: dict, predicted: list[dict]) -> list[dict]:
    """One row per cold build (`cold_builds`): when, commit, CPU, its autoencoders' epochs, training images and
    steps, its minutes, the sizing's prediction for its design where `predicted` (the sizing record's designs) has
    it, and whether it is the profile as defined now (`design`, its `run_settings`)."""
    from aecrypt.budget import Budget

    now = as_recorded(design)
    rows = []
    for b in builds:
        run = b.get("design") or {}
        same = predicted_for(predicted, run)
        rows.append(
            {
                "when": b["when"][:16].replace("T", " "),
                "commit": b["commit"][:10],
                "CPU": b["cpu"],
                "epochs": run.get("ae_epochs"),
                "training images": run.get("n_train"),
                "steps": Budget(run["n_train"], run["ae_epochs"], run["batch_size"]).steps if run else None,
                "cold book (min)": round(b["total_s"] / 60, 1),
                "predicted (min)": round(same["cold book s"] / 60, 1) if same else None,
                "as defined now": "yes" if run == now else "no",
            }
        )
    return rows


def schedule(seconds: list[float], workers: int) -> float:
    """Wall seconds of runs handed, in this order, each to the first worker free (as a process pool does)."""
    if not seconds:
        return 0.0
    free = [0.0] * max(1, workers)
    for s in seconds:
        heapq.heappush(free, heapq.heappop(free) + s)
    return max(free)


@dataclass(frozen=True)
class Prediction:
    profile: Profile
    runs: int
    steps: int  # the autoencoder's optimizer steps per run
    test_images: int
    sweep_s: float
    core_s: float  # every run's seconds added up

    def as_row(self) -> dict:
        p = self.profile
        return {
            "epochs": p.ae_epochs,
            "training images": p.n_train,
            "test images": self.test_images,
            "steps": self.steps,
            "runs": self.runs,
            "sweep s": round(self.sweep_s),
        }


def predict(profile: Profile, grid: str, data: str, costs: StageCosts, workers: int) -> Prediction:
    """The sweep of `grid` at `profile` on `data`, as `aecrypt sweep` would run it on `workers` workers (at the
    profile's image size: data whose images are smaller would be run smaller, which the stages cannot scale to)."""
    from aecrypt.runs.grids import load_grid
    from aecrypt.runs.plan import expand, resolve_data
    from aecrypt.runs.sweep import costliest_first

    if profile.size != costs.design["size"]:
        raise UsageError(
            f"the stages record was measured at {costs.design['size']}², not {profile.size}²: "
            "run `make bench-stages` at that size first"
        )
    specs, _, baselines = expand(profile, load_grid(grid), resolve_data(data), profile.training_seeds, 0, profile.size)
    if profile.n_train is None or costs.design.get("n_train") is None:
        raise UsageError("sizing needs exact split sizes (n_train, n_val) in the profile and in the stages record")
    train_val = profile.n_train + profile.n_val
    if profile.n_test is not None:
        images = train_val + profile.n_test
    elif costs.design.get("n_test") is None:  # every image, as measured: the data set's size
        images = costs.rows[min(d for d in costs.rows if d)]["images retrieved"]
    else:
        raise UsageError("the stages record was measured on part of the data: give the design's test images")
    test_images = images - train_val
    steps_per_epoch = profile.budget(profile.n_train).steps_per_epoch
    classifier_work = (profile.n_train * profile.clf_epochs) / (costs.design["n_train"] * costs.design["clf_epochs"])
    if profile.batch_size != costs.design["batch_size"]:
        raise UsageError("the stages record was measured at another batch size: run `make bench-stages` first")

    def seconds(spec) -> float:
        depth = 0 if spec.is_baseline else spec.depth
        return costs.run_seconds(depth, steps_per_epoch, profile.ae_epochs, images, classifier_work)

    ordered = [seconds(spec) for spec, _ in costliest_first([(s, "") for s in baselines + specs])]
    references = [seconds_at(costs, profile, steps_per_epoch, images, classifier_work)] * len(baselines)
    sweep = schedule(ordered, workers) + schedule(references, workers)
    return Prediction(
        profile,
        len(ordered) + len(references),
        steps_per_epoch * profile.ae_epochs,
        test_images,
        sweep,
        sum(ordered) + sum(references),
    )


def seconds_at(costs: StageCosts, profile: Profile, steps_per_epoch: int, images: int, work: float) -> float:
    """A reference run's seconds: its combination is the build's best, unknown before the sweep; the paper's depth."""
    return costs.run_seconds(PROPOSED_DEPTH, steps_per_epoch, profile.ae_epochs, images, work)


#: A stages record's shape, for the docstring's example (one depth; the numbers are illustrative).
EXAMPLE_RECORD = {
    "design": {"size": 32, "n_train": 192, "n_val": 48, "ae_epochs": 10, "clf_epochs": 20, "batch_size": 32},
    "stages": [
        {
            "variant": VARIANT,
            "depth": 3,
            "startup": 1.22,
            "data": 0.02,
            "autoencoder": 14.87,
            "retrieve": 5.34,
            "classifier": 6.32,
            "metrics": 0.34,
            "files and hand-back": 0.76,
            "ae first epoch": 3.53,
            "ae epoch": 1.26,
            "ae steps per epoch": 6,
            "images retrieved": 1903,
        }
    ],
}
