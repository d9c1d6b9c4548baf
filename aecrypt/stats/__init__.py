"""Statistics: the uncertainty of every comparison, and the tests that turn measurements into verdicts.

  intervals  t-intervals over seeds, DeLong's AUC interval, distribution-free quantile bounds, slopes
  power      the test split a paired AUC comparison needs (Hanley-McNeil)
  linear     metric ~ group + blocks (OLS), contrasts, F tests; Holm's adjustment
  findings   what a claim's test returns (Finding), its four verdicts, the runs a table is missing
  claims     the tests of the paper's claims
  realtime   whether a stream of images kept up with its rate

A docstring only, like every subpackage's __init__."""
