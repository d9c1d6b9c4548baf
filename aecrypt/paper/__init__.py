"""The paper itself, as code: what a run executes.

  parameters  a run's parameters, defined once: defaults, validation, labels (no Keras)
  cells       the notebooks' parameters cells, written from the parameters
  choices     the hyperparameter vocabulary and its validation (no Keras import)
  models      the paper's autoencoder and the two-layer CNN classifier (Keras 3)
  cipher      the paper's cipher E = (z + K)², its two readings of decryption, and the known-plaintext attack
  metrics     reconstruction (scikit-image) and classification (scikit-learn) metrics
  cost        FLOP counts of the autoencoder, from its layer shapes
  experiment  a run's configuration, its data and split, and the autoencoder's training
  retrieval   every image through encoder → cipher → decoder, streamed in chunks
  classification  the two-layer CNN on the retrieved (or the original) images
  runmetrics  a run's scalars: reconstruction, checkpoints, classifier, training length, cipher checks
  runfiles    the files a run writes into its folder
  reported    what the paper reports about its own results, as data

A docstring only: a run's identity follows its imports through parent packages."""
