"""The Jupyter Book: what its pages show beside the figures, and how it is built.

  build     the build (skipped when no input changed) and the parallel page execution
  editions  the instructor and the student edition from one source
  page      what every page shares: the opening (results and banner), figure notes
  figures   one function per paper figure (Figs. 5-10, the best-combination panel)
  panels    the pictures beside them (phantoms and X-rays, the cipher's leaks and attacks, latencies)
  rdplot    the rate–distortion figure
  colours   the one palette every figure takes its colours from
  links     the built site's internal links, checked before it is published
  pages/    one module per page group: the numbers and sentences each page shows

A docstring only, like every subpackage's __init__."""
