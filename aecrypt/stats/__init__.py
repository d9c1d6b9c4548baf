"""Statistics: the uncertainty of every comparison, and the tests that turn measurements into verdicts.

  intervals  t-intervals over seeds, DeLong's AUC interval, distribution-free quantile bounds, slopes
  power      the test split a paired AUC comparison needs (Hanley-McNeil)
  multiplicity  Holm's step-down adjustment of a family of tests
  findings   what a claim's test returns (Finding), its four verdicts, the runs a table is missing
  components a contrast's two variance parts (test split, seeds) and the advice on what would decide
  claims     the tests of the paper's claims; trends: depth and epochs
  formula    the claims that follow from the cipher's formula, whatever the data (the known-plaintext attack)
  compressed the compression claim: the latent's bytes against a codec at equal quality, per image
  convergence  did training finish: how fast each run's loss still fell, projected
  longruns   what the long runs at the paper's step budget can decide
  rules      each claim about trained models as the one rule the scorecard and the calibration call
  training   runs that did not train, the training budget, the convergence gate; withholding: the verdicts
             it holds back (did not train, not converged)
  simulate   builds whose truth is known; scenarios: the truths simulated, each rule's right and wrong verdicts
             on them; calibration: the rules held to their error rates on them
  realtime   whether a stream of images kept up with its rate

A docstring only, like every subpackage's __init__."""
