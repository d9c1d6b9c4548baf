"""The cipher audit: the paper's cipher and AES-256-GCM measured by the field's standard tests on every run's
trained latents.

  randomness  entropy, χ², adjacent correlation, NPCR/UACI with Wu, Noonan & Agaian's critical values
  attacks     ciphertext-only key recovery, and a run's own key rebuilt to score the attacks
  measure     every measurement on one run
  record      the audit of a build as a cached step (audit.json), keyed on its own code and the runs

A docstring only, like every subpackage's __init__."""
