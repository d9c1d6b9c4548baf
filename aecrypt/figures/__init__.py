"""Every figure the project draws, in one place, in one style (aecrypt.mplstyle, beside these modules).

  paper_figures   one function per paper figure (Figs. 5-10, the best-combination panel)
  panels          the pictures beside them (phantoms and X-rays, the cipher's leaks and attacks, latencies)
  ratedistortion  the rate–distortion figure
  training        what training reached: loss against optimizer steps, the runs that did not train
  runstrip        what a run notebook draws for itself (the Fig. 4 strip), and the one style (`use_style`)
  colours         the one palette every figure takes its colours from

The book imports these modules, never the reverse. A run notebook imports `runstrip` only, which imports no
other figure code: editing a book figure reruns no run.

A docstring only: a run's identity follows its imports through parent packages."""
