"""The Jupyter Book: what its pages show beside the figures, and how it is built.

  build     the build (skipped when no input changed) and the parallel page execution
  editions  the instructor and the student edition from one source
  page      what every page shares: the opening (results and banner), figure notes
  links     the built site's internal links, checked before it is published
  pages/    one module per page: the numbers and sentences each page shows

The figures themselves are drawn by `aecrypt.figures`, which imports nothing of the book.

A docstring only, like every subpackage's __init__."""
