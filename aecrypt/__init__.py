"""aecrypt: a reproducible, critical companion to the paper
"Image Encryption and Compression Based on Auto Encoder for Real Time Using IoT Technique".

Modules (one concept each):
  paths     every file and folder the project reads or writes
  profiles  how big a run is (tiny / default / paper / real)
  data      synthetic phantoms and loaders for real X-ray layouts
  models    the paper's autoencoder and the two-layer classifier
  cipher    the paper's cipher, and a real AEAD cipher behind one interface
  metrics   reconstruction and classification metrics (scikit-image, scikit-learn)
  experiment  the steps of one run, called by notebooks/experiment.ipynb (and baseline.ipynb)
  runplots  what a run notebook draws (kept apart from the book's figures)
  cost      FLOP counts of the autoencoder, from its layer shapes
  statistics  the power calculation behind the default test split
  runs      one run's identity (content hash over its import graph), execution and atomic result folder
  sweep     grids, executors (process pool, dask.distributed) and the results table
  figures   one function per paper figure, reading the results table
  report    what the book pages glue: claims vs. measurements, run tables, the bench record
  book      the Jupyter Book build (skipped when no input changed)
  lockfile  requirements.lock and environment.yml from pyproject.toml
"""

__version__ = "0.1.0"


class AecryptError(ValueError):
    """A user-facing error: the message says what was wrong and what is valid."""
