"""Long runs: the combinations the paper names, and their nearest rivals, trained for the paper's optimizer-step
budget (`aecrypt.budget.PAPER_STEPS`) at the default's image size, checkpointed and resumable.

One long run trains on as much of the embedded set as keeps a test split of at least `MIN_TEST` images, epoch
by epoch, in its own folder (`paths.long_run_dir`). About every `CHECKPOINT_STEPS` steps, and whenever the wall
clock given runs out, it writes the model's weights, the optimizer's state and its records atomically, so that a
later call continues exactly where it stopped (each epoch's order comes from the seed and the epoch number). It
records the training loss in blocks of `BLOCK_STEPS` steps (as short as the default build's epochs, so that the
convergence projection can be checked on it), and the training and validation loss at every checkpoint; it
keeps the checkpoint with the lowest validation loss. When done, the final and the best checkpoint each go
through encoder → paper cipher → decoder and a fresh classifier, as a sweep's run does (`paper.retrieval`,
`paper.classification`).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aecrypt import UsageError, paths
from aecrypt.budget import PAPER_STEPS
from aecrypt.files import read_json, write_atomic, write_json
from aecrypt.paper.choices import combination_label

#: The embedded set's 1903 images: train on this many, validate on `VAL`, test on the rest (at least `MIN_TEST`).
TRAIN, VAL, MIN_TEST = 1450, 53, 400
CHECKPOINT_STEPS = 500
BLOCK_STEPS = 6  # the default build's epoch (192 images at batch 32)
PROFILE = "default"

#: (loss, optimizer, activation, depth, seeds): the paper's named combinations (two seeds for the two depth-2
#: headline ones) and their nearest rivals.
PLAN = (
    ("msle", "adagrad", "relu", 2, (0, 1)),
    ("msle", "adam", "relu", 2, (0, 1)),
    ("msle", "adam", "relu", 3, (0,)),
    ("mse", "rmsprop", "relu", 3, (0,)),
    ("mse", "sgd", "relu", 3, (0,)),
)


@dataclass(frozen=True)
class LongRun:
    loss: str
    optimizer: str
    activation: str
    depth: int
    seed: int

    @property
    def label(self) -> str:
        return combination_label(self.loss, self.optimizer, self.activation, self.depth)

    @property
    def name(self) -> str:
        return f"{self.label}-seed{self.seed}".replace("+", "_").lower()

    def config(self, epochs: int = 1):
        from aecrypt.paper.experiment import RunConfig

        overrides = {"n_train": TRAIN, "n_val": VAL, "n_test": None, "n_images": None, "ae_epochs": epochs}
        return RunConfig(
            profile=PROFILE,
            loss=self.loss,
            optimizer=self.optimizer,
            activation=self.activation,
            depth=self.depth,
            seed=self.seed,
            overrides=overrides,
        )


def planned(only: str = "") -> list[LongRun]:
    """The long runs of `PLAN` (those of one combination label where `only` is given), first seeds first: every
    combination is met once before any runs twice."""
    runs = [LongRun(loss, opt, act, depth, seed) for loss, opt, act, depth, seeds in PLAN for seed in seeds]
    runs.sort(key=lambda r: r.seed)
    if only:
        runs = [r for r in runs if r.label == only]
        if not runs:
            valid = ", ".join(dict.fromkeys(r.label for r in planned()))
            raise UsageError(f"no long run of {only!r}; planned: {valid}")
    return runs


def _state(folder: Path) -> dict:
    return read_json(folder / "state.json", {"epoch": 0, "step": 0, "wall_s": 0.0, "cpu_s": 0.0})


def status(run: LongRun, root: Path | None = None) -> dict:
    """Where a long run stands: its state (epoch, step, done) and its folder."""
    folder = paths.long_run_dir(PROFILE, run.name, root)
    return _state(folder) | {"folder": str(folder), "label": run.label, "seed": run.seed}


def train(
    run: LongRun, deadline: float, root: Path | None = None, steps: int = PAPER_STEPS, measure_when_done: bool = True
) -> dict:
    """Train `run` towards `steps` optimizer steps until done or until `time.time()` passes `deadline`, from its
    last checkpoint; then, when done, measure it (`measure`; a finished run left unmeasured is measured by the
    next call). Returns its state."""
    from aecrypt.paper import experiment as ex
    from aecrypt.paper import models

    folder = paths.long_run_dir(PROFILE, run.name, root)
    folder.mkdir(parents=True, exist_ok=True)
    state = _state(folder)
    if state.get("done") and ("final" in state or not measure_when_done):
        return state
    cfg = run.config()
    ex.start(cfg)
    split = ex.load_data(cfg)
    if len(split.index["test"]) < MIN_TEST:
        left = len(split.index["test"])
        raise UsageError(f"the long runs need a test split of at least {MIN_TEST} images; this data leaves {left}")
    p = cfg.settings
    x_train, x_val = split.x("train"), split.x("val")
    per_epoch = -(-len(x_train) // p.batch_size)
    epochs = -(-steps // per_epoch)
    ae = models.build_autoencoder(p.size, cfg.depth, cfg.activation, cfg.bottleneck)
    models.compile_autoencoder(ae, cfg.loss, cfg.optimizer)
    model = ae.autoencoder
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    if state["epoch"]:
        model.load_weights(folder / "model.weights.h5")
        saved = np.load(folder / "optimizer.npz")
        for i, variable in enumerate(optimizer.variables):
            variable.assign(saved[f"v{i}"])
    blocks = _read_csv(folder / "curve.csv", ["step", "loss"])
    history = _read_csv(folder / "history.csv", ["epoch", "step", "loss", "val_loss", "best"])
    t0, c0, since = time.time(), time.process_time(), 0
    epoch, step = int(state["epoch"]), int(state["step"])
    while epoch < epochs:
        order = np.random.default_rng([run.seed, epoch]).permutation(len(x_train))
        losses = []
        for start in range(0, len(order), p.batch_size):
            batch = x_train[order[start : start + p.batch_size]]
            losses.append(float(model.train_on_batch(batch, batch, return_dict=True)["loss"]))
        epoch, since = epoch + 1, since + len(losses)
        first = step
        step += len(losses)
        for b in range(0, len(losses), BLOCK_STEPS):
            end = first + min(b + BLOCK_STEPS, len(losses))
            blocks.append({"step": end, "loss": float(np.mean(losses[b : b + BLOCK_STEPS]))})
        if not np.isfinite(losses[-1]):
            raise UsageError(f"long run {run.label} seed {run.seed}: loss became {losses[-1]} at step {step}")
        if since >= CHECKPOINT_STEPS or epoch == epochs or time.time() > deadline:
            val = float(model.evaluate(x_val, x_val, batch_size=p.batch_size, verbose=0, return_dict=True)["loss"])
            best = not history or val < min(h["val_loss"] for h in history)
            row = {"epoch": epoch, "step": step, "loss": float(np.mean(losses)), "val_loss": val, "best": best}
            history.append(row)
            state = {
                "epoch": epoch,
                "step": step,
                "epochs": epochs,
                "wall_s": state["wall_s"] + time.time() - t0,
                "cpu_s": state["cpu_s"] + time.process_time() - c0,
                "done": False,
            }
            t0, c0, since = time.time(), time.process_time(), 0
            _checkpoint(folder, model, optimizer, best, state, blocks, history)
            if time.time() > deadline and epoch < epochs:
                return state
    state = state | {"done": True} | (measure(run, folder, ae, split) if measure_when_done else {})
    write_json(folder / "state.json", state)
    return state


def _read_csv(path: Path, columns: list[str]) -> list[dict]:
    return pd.read_csv(path).to_dict("records") if path.is_file() else []


def _checkpoint(folder: Path, model, optimizer, best: bool, state: dict, blocks: list, history: list) -> None:
    tmp = folder / ".model.weights.h5"
    model.save_weights(tmp)
    arrays = {f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(optimizer.variables)}
    np.savez(folder / ".optimizer.npz", **arrays)
    if best:
        shutil.copyfile(tmp, folder / ".best.weights.h5")
        os.replace(folder / ".best.weights.h5", folder / "best.weights.h5")
    os.replace(tmp, folder / "model.weights.h5")
    os.replace(folder / ".optimizer.npz", folder / "optimizer.npz")
    write_atomic(folder / "curve.csv", pd.DataFrame(blocks, columns=["step", "loss"]).to_csv(index=False))
    history_frame = pd.DataFrame(history, columns=["epoch", "step", "loss", "val_loss", "best"])
    write_atomic(folder / "history.csv", history_frame.to_csv(index=False))
    write_json(folder / "state.json", state)


def measure(run: LongRun, folder: Path, ae, split) -> dict:
    """The final and the best checkpoint, each through encoder → paper cipher → decoder (MSE, MAE, SSIM on the
    retrieved test images, and the test MSE of the training set's mean image) and a fresh classifier on the
    retrieved images (AUC)."""
    from aecrypt.paper import classification, metrics, retrieval, runmetrics
    from aecrypt.paper.experiment import Trained

    cfg = run.config()
    out = runmetrics.mean_image_metrics(split) | {"n_test": int(len(split.index["test"]))}
    for which, weights in (("final", "model.weights.h5"), ("best", "best.weights.h5")):
        ae.autoencoder.load_weights(folder / weights)
        retrieved = retrieval.retrieve(cfg, Trained(ae, pd.DataFrame()), split)
        quality = metrics.reconstruction_metrics(split.x("test"), retrieved.images["test"])
        clf = classification.classify_retrieved(cfg, retrieved, split)
        scored = metrics.classification_metrics(split.y("test"), clf.scores)
        out[which] = {k: quality[k] for k in ("mse", "mae", "ssim")} | {k: scored[k] for k in ("auc", "accuracy")}
        per_image = metrics.per_image_errors(split.x("test"), retrieved.images["test"])
        scores = {"image": split.keys("test"), "label": split.y("test"), "score": clf.scores} | per_image
        write_atomic(folder / f"{which}_scores.csv", pd.DataFrame(scores).to_csv(index=False))
    history = pd.read_csv(folder / "history.csv")
    out["best"]["step"] = int(history.loc[history["val_loss"].idxmin(), "step"])
    return out


def record(root: Path | None = None) -> pd.DataFrame:
    """One row per planned long run: how far it trained, its wall and CPU time, and (when done) its final and best
    checkpoints' MSE, MAE, SSIM and AUC on the retrieved test images."""
    rows = []
    for run in planned():
        state = status(run, root)
        row = {
            "label": run.label,
            "seed": run.seed,
            "loss_fn": run.loss,
            "steps": int(state["step"]),
            "done": bool(state.get("done")),
            "wall_s": float(state["wall_s"]),
            "cpu_s": float(state["cpu_s"]),
            "mse_mean_image": state.get("mse_mean_image"),
            "ssim_mean_image": state.get("ssim_mean_image"),
        }
        for which in ("final", "best"):
            for k, v in state.get(which, {}).items():
                row[f"{which}_{k}"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def scores(run: LongRun, which: str = "final", root: Path | None = None) -> pd.DataFrame | None:
    """A finished long run's per-image test values (image, label, score, se, ae) at its final or best checkpoint."""
    path = paths.long_run_dir(PROFILE, run.name, root) / f"{which}_scores.csv"
    return pd.read_csv(path) if path.is_file() else None


def curves(root: Path | None = None) -> pd.DataFrame:
    """Every long run's training loss in blocks of `BLOCK_STEPS` steps (columns label, seed, loss_fn, step, loss)."""
    frames = []
    for run in planned():
        path = paths.long_run_dir(PROFILE, run.name, root) / "curve.csv"
        if path.is_file():
            frames.append(pd.read_csv(path).assign(label=run.label, seed=run.seed, loss_fn=run.loss))
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["label", "seed", "loss_fn", "step", "loss"])
    )


def write_record(root: Path | None = None) -> Path:
    """results/<profile>/convergence.json: the record (`record`), the machine and the budget it was run against."""
    from aecrypt import runtime

    path = paths.convergence_json(PROFILE, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "paper_steps": PAPER_STEPS,
        "split": {"train": TRAIN, "val": VAL, "min_test": MIN_TEST},
        "env": runtime.describe(),
        "runs": [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in record(root).to_dict("records")],
    }
    return write_json(path, payload)
