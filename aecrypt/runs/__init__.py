"""Runs and sweeps: what one run is, what it is called, how it executes, where its files go, and the table of
a whole build.

  spec      a run's parameters (RunSpec) and its template notebook
  closure   what a piece of the project executes: modules, their code hash, the distributions they reach
  identity  a run's id: the content hash of exactly what can change its result
  kernels   warm kernels: a worker runs its runs one after another in one kernel, reset between runs
  execute   one run through papermill, in the worker's warm kernel (or a kernel of its own)
  folder    the run folder, written atomically; what a worker sends back
  grids     grid files (which combinations)
  plan      every run of a grid with its id, before anything runs; the reference runs
  sweep     the sweep on local workers or a dask.distributed cluster
  table     summary.csv, and which combination is best (the one definition)
  added     runs made by hand, added to the results
  results   one profile's results as pages and tools read them
  trained   a finished run's trained models, found by id and loaded
  archive   a profile's results in one verified file, to rebuild the book elsewhere

A docstring only: a run's identity follows its imports through parent packages."""
