"""The `aecrypt` command, one module per command family; each declares its sub-commands beside their
handlers (`register`), and `main` assembles them, sets up logging and turns errors into one line and an exit
status (0 done, 1 a failure at run time, 2 a usage error, 130 interrupted).

  runs        sweep, results, add, data, runs
  fetch       fetch
  audit       audit
  compression compression
  archive     archive export, archive import
  book        book
  coursework  assignments, grade
  packets     keygen, encrypt, decrypt
  link        send, receive, certs
  common      what the families share: the parser class and the common options
  reference   the command-line reference (the book's page), generated from the parser
  main        the entry point (`aecrypt`, `python -m aecrypt`)

A docstring only, like every subpackage's __init__."""
