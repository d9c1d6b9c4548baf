"""aecrypt: a reproducible, critical companion to the paper
"Image Encryption and Compression Based on Auto Encoder for Real Time Using IoT Technique".

The package is a house of rooms, one concern each; a room imports only the rooms below it.

  paths, files, profiles, budget, runtime, cachekeys
              the ground floor: every path (and the names of a run folder's files), JSON files, how big a
              run is, the paper's training budget in steps, process settings and the machine's description,
              and how every cache is keyed (what each key covers, said once)
  paper/      the paper itself: its autoencoder and classifier, its cipher, the hyperparameter vocabulary,
              metrics, FLOP counts, one run's steps (what the run template calls), the results it reports
  data/       data specs and sources: readers of real layouts, phantoms, `aecrypt fetch`, attributions
  runs/       runs and sweeps: a run's spec and identity (content hash), execution (papermill), the run
              folder, grids, planning, the sweep (process pool, dask.distributed), the results table, "best",
              the long runs at the paper's step budget (resumable)
  stats/      intervals, the linear model, the tests of the paper's claims, what training reached (not
              trained, not converged), real-time checks
  audit/      the cipher audit: randomness tests, attacks on the paper's cipher, the cached audit record
  link/       the IoT link: packets (all AEAD framing), keys, the PNG codec, sender and receiver, MQTT,
              brokers, certificates, fault drills
  compression/
              is it compressed? bytes on the wire, rate–distortion against the standard codecs, the
              bottleneck variant and the classifier at equal rate, latency per method (the cached step)
  figures/    every figure, in one style and palette: the paper's figures, the pictures beside them, the
              rate–distortion figure, what training reached, and the Fig. 4 strip a run notebook draws
  book/       the Jupyter Book: its build and editions, and one module per page
  coursework/ the autograded assignments (otter-grader)
  cli/        the `aecrypt` command, one module per command family
  lockfile    requirements.lock and environment.yml from pyproject.toml (`make lock`)

`aecrypt.cipher` and `aecrypt.statistics` are the old import paths of handed-out student notebooks: they
still work, with a warning, for one release.
"""

from importlib import metadata as _metadata

try:  # one source, pyproject.toml; read from the installed metadata, so a new version reruns no run
    __version__ = _metadata.version("aecrypt")
except _metadata.PackageNotFoundError:  # the source tree used without installing it
    __version__ = "unknown"


class AecryptError(ValueError):
    """A user-facing error: the message says what was wrong and what is valid. The command line prints it on
    one line and exits 1 (a failure at run time)."""


class UsageError(AecryptError):
    """An input that is not valid as given (an unknown choice, a missing file, options that do not go
    together), found before any work is done: the command line exits 2, as for its own usage errors."""
