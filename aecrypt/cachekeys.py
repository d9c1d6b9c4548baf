"""Every cache of the project is keyed one way: `key`, the SHA-256 of a JSON document of what the cached thing
depends on. What each key covers is said here, once:

=====================  ===============================================  ==============================================
cache                  kept in                                          its key covers
=====================  ===============================================  ==============================================
a run                  results/<profile>/runs/<run id>                  its parameters and profile settings by value;
                                                                        the template's code cells; the aecrypt code
                                                                        they reach and the versions it imports; its
                                                                        own vocabulary entries; the data
                                                                        (`runs.identity.run_id`)
the cipher audit       results/<profile>/audit.json                     the runs it read; its entry point's code and
                                                                        what that reaches, and the versions that code
                                                                        imports (`audit.record.inputs_hash`)
the compression step   results/<profile>/compression/                   its design (sizes, codecs, images); the runs;
                                                                        code and versions, as the audit's
                                                                        (`compression.record.inputs_hash`)
the calibration        results/<profile>/verdicts.json                  the build's noise model; the code of
                                                                        benchmarks/verdicts.py and what it reaches
the machine records    results/bench.json, results/<profile>/link.json  the benchmark scripts and the aecrypt code
(performance, link)    and this user's machine records                  they reach; the CPU line; the versions of the
                       (`paths.machine_records`)                        libraries they measure; the measured run's
                                                                        shape (benchmarks/stamp.py)
the book               <build folder>/_build/html/.aecrypt-inputs       every file a build reads (the package's code
                                                                        and the pages included), by content; the run
                                                                        folders' names (content-addressed); the
                                                                        profile, edition and jupyter-book's version
                                                                        (`book.build.inputs_hash`)
a data set's arrays    $AECRYPT_CACHE                                   the spec, size, count and data seed; the
                                                                        source files' names, sizes and times; the
                                                                        decoder's version, `data.dataset.CACHE_VERSION`
                                                                        (bumped by hand when decoding changes)
=====================  ===============================================  ==============================================

Code enters a key as `runs.closure.code_key` hashes it: an entry point's own code whole, and of the modules it
imports the definitions it can reach, all without comments, docstrings or layout — rewording a docstring keeps
the key, and so does a definition added where the entry point does not reach it. A run's template cells are
hashed as written (`runs.identity.template_hash`).

Examples
--------
>>> key({"runs": ["b", "a"], "code": "c0de"}) == key({"code": "c0de", "runs": ["b", "a"]})
True
>>> len(key(["synthetic", 32, 120, 0], length=16))
16
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def key(parts, length: int = 64) -> str:
    """The key of a cached thing: SHA-256 of its parts as JSON (keys sorted), as hex, cut to `length` characters.

    Parameters
    ----------
    parts : JSON-serialisable
        What the cached thing depends on (a dict of named parts, or a list).
    length : int, optional
        Hex characters kept (64: the whole digest; run ids keep 16).

    Returns
    -------
    str
        The key.

    Examples
    --------
    >>> key({"a": 1})[:12]
    'f9d86028c6e0'
    """
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:length]


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, or "absent": how a key names a file it reads.

    Parameters
    ----------
    path : pathlib.Path
        Any file.

    Returns
    -------
    str
        The hex digest, or "absent" where there is no such file.

    Examples
    --------
    >>> file_digest(Path("/no/such/file"))
    'absent'
    """
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"
