"""One module per page of the book: what each page says beside its figures, computed here so that the
pages (book/*.md) only call and show.

  method          Method: layer tables, the cipher's readings, the data
  fig5            Fig. 5: the class counts beside the paper's
  fig4            Fig. 4: original, encrypted, retrieved, and the two readings of the decryption
  autoencoder     Figs. 6 and 7: reconstruction error and loss per combination
  best            the best-combination panel
  classifier      Figs. 8 and 9: AUC with both of its uncertainties
  roc             Fig. 10: the ROC curves
  factors         which hyperparameter moves a metric most
  premise         The premise (compress, then encrypt): what the ciphertext gives away, bytes per image, what
                  the cipher alone changes
  audit           Is it secure?: the cipher audit's table and the cipher verdict
  compression     the compression record's tables and the compression verdict
  link            the link benchmark: verdicts per stream and rate, faults, bytes on the wire
  shaped          the link through shaped networks (bench-shaped)
  claims          the tests of the paper's claims on this build
  calibration     the claim rules' false-verdict rates and power, from the calibration record
  budget          the training budget: steps against the paper's, runs that did not train, convergence, long runs
  performance     the bench and memory records
  reproducing     every run, the profiles, the environment

A docstring only, like every subpackage's __init__."""
