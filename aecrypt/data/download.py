"""Resumable, verified HTTP downloads for `aecrypt fetch`, the only network use in aecrypt.

Downloads stream through `requests` with a `tqdm` progress bar into `NAME.part`, which survives an
interruption: the next fetch asks the server for the rest (an HTTP Range request with If-Range, the file's
ETag or Last-Modified from the first answer, kept in `NAME.part.json`) and appends only where the answer's
Content-Range starts at the bytes already here; otherwise it starts over. (pooch verifies but does not
resume, which is why this piece is written here.) A finished file is checked against the MD5 its publisher
gives; where none is published, its SHA-256 is recorded in the folder's `SHA256SUMS` on the first complete
download (its length the server's stated total) and checked on every later one. A file that fails its check
is deleted, never kept."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from pathlib import Path
from urllib.parse import urlsplit

from aecrypt import AecryptError

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
#: Seconds to wait for a connection or for the next bytes (not for the whole file).
TIMEOUT_S = 30
CHECKSUMS = "SHA256SUMS"


def _hash(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm, usedforsecurity=False) if algorithm == "md5" else hashlib.new(algorithm)
    with path.open("rb") as f:
        while block := f.read(CHUNK_BYTES):
            h.update(block)
    return h.hexdigest()


def recorded_sha256(folder: Path) -> dict[str, str]:
    """File name -> SHA-256 from the folder's SHA256SUMS (the `sha256sum` format).

    Parameters
    ----------
    folder : pathlib.Path
        The download folder.

    Returns
    -------
    dict of str to str
        File name → hex digest, as recorded on each file's first complete download; empty without the file.
        A line that is not ``DIGEST  NAME`` (or ``DIGEST *NAME``) is logged and ignored.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / CHECKSUMS).write_text("ab12  images_001.tar.gz\\ncd34 *chestmnist.npz\\n")
    ...     found = recorded_sha256(Path(tmp))
    >>> found
    {'images_001.tar.gz': 'ab12', 'chestmnist.npz': 'cd34'}
    """
    path = folder / CHECKSUMS
    if not path.is_file():
        return {}
    out = {}
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        fields = line.split(maxsplit=1)
        if len(fields) == 2:
            out[fields[1].strip().lstrip("*")] = fields[0]
        elif fields:
            log.warning(f"{path}, line {number}: not 'SHA-256  name'; ignored")
    return out


def _record_sha256(folder: Path, name: str, digest: str) -> None:
    sums = recorded_sha256(folder) | {name: digest}
    (folder / CHECKSUMS).write_text("".join(f"{d}  {n}\n" for n, d in sorted(sums.items())))


def verify(path: Path, md5: str | None, record: bool = True) -> str:
    """Check a downloaded file: against the published MD5 if there is one, else against the SHA-256 recorded
    on its first download (recording it now if this is the first and `record`: a download whose length no
    server stated is checked, never trusted as the reference). Returns the SHA-256; a mismatch deletes the
    file and says so.

    Parameters
    ----------
    path : pathlib.Path
        The file; a ``.part`` suffix is dropped from the name it is recorded under.
    md5 : str or None
        The MD5 its publisher gives, lower-case hex; None where none is published.
    record : bool, optional
        Record the SHA-256 in the folder's SHA256SUMS (a file already recorded keeps its entry).

    Returns
    -------
    str
        The file's SHA-256, hex.

    Raises
    ------
    AecryptError
        On a mismatch with the MD5 or the recorded SHA-256; the file has been deleted.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "hello.txt"
    ...     _ = path.write_bytes(b"hello")
    ...     digest = verify(path, "5d41402abc4b2a76b9719d911017c592")
    ...     recorded = recorded_sha256(Path(tmp))
    ...     _ = path.write_bytes(b"hello?")  # changed since its first download
    ...     try:
    ...         verify(path, None)
    ...     except AecryptError as exc:
    ...         print(str(exc).split(":")[0], "- still there:", path.exists())
    hello.txt is corrupt or changed - still there: False
    >>> digest[:16], recorded == {"hello.txt": digest}
    ('2cf24dba5fb0a30e', True)
    """
    name = path.name.removesuffix(".part")
    sha256 = _hash(path, "sha256")
    problem = None
    if md5 and (got := _hash(path, "md5")) != md5:
        problem = f"MD5 {got}, but its publisher gives {md5}"
    elif (known := recorded_sha256(path.parent).get(name)) and known != sha256:
        problem = f"SHA-256 {sha256}, but its first download recorded {known} in {path.parent / CHECKSUMS}"
    if problem:
        path.unlink()
        raise AecryptError(f"{name} is corrupt or changed: {problem}. It was deleted; run the fetch again")
    if record:
        _record_sha256(path.parent, name, sha256)
    return sha256


def _content_range(value: str | None) -> tuple[int, int | None] | None:
    """(first byte, total or None) of a Content-Range `bytes FIRST-LAST/TOTAL`; None if it is not one."""
    try:
        unit, spec = value.split(" ", 1)
        span, total = spec.split("/")
        if unit != "bytes":
            return None
        return int(span.split("-")[0]), None if total == "*" else int(total)
    except (AttributeError, ValueError):
        return None


def _validator(response) -> str | None:
    """What If-Range may quote: a strong ETag, else Last-Modified."""
    etag = response.headers.get("ETag")
    return etag if etag and not etag.startswith("W/") else response.headers.get("Last-Modified")


def _session():
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = "aecrypt-fetch"
    session.headers["Accept-Encoding"] = "identity"  # byte ranges count the file's own bytes, not a gzip stream
    return session


def download(url: str, dest: Path, md5: str | None = None, quiet: bool = False, session=None) -> Path:
    """Download `url` to `dest`, resuming a `.part` left by an interrupted run, and verify it. A `dest` that
    is already here and passes its check is not downloaded again.

    Parameters
    ----------
    url : str
        Where the file is (http or https).
    dest : pathlib.Path
        Where it goes; its folder is created. ``DEST.part`` and ``DEST.part.json`` hold an unfinished download.
    md5 : str, optional
        The publisher's MD5; None: the SHA-256 of the first complete download is recorded and checked (`verify`).
    quiet : bool, optional
        No progress bar and no info lines in the log (warnings are still logged).
    session : requests.Session, optional
        The HTTP session; None: a new one that asks for the file's own bytes (no gzip encoding).

    Returns
    -------
    pathlib.Path
        `dest`, complete and verified.

    Raises
    ------
    AecryptError
        When the server cannot be reached, answers with an error or an inconsistent range, the connection
        breaks (the ``.part`` is kept for the next try), or the file fails its check (it is deleted).

    Examples
    --------
    A file already here is only checked (the URL is never contacted):

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     dest = Path(tmp) / "hello.txt"
    ...     _ = dest.write_bytes(b"hello")
    ...     got = download("https://example.org/hello.txt", dest, "5d41402abc4b2a76b9719d911017c592", quiet=True)
    ...     print(got == dest, got.read_bytes())
    True b'hello'
    """
    import requests
    import urllib3
    from tqdm import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    say = (lambda text: None) if quiet else log.info
    if dest.is_file():
        verify(dest, md5)
        say(f"{dest.name}: already here, checksum verified")
        return dest
    part = dest.with_name(dest.name + ".part")
    meta = part.with_name(part.name + ".json")
    validator = _read_validator(meta)
    offset = part.stat().st_size if part.is_file() else 0
    session = session or _session()
    host = urlsplit(url).netloc
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    if offset and validator:
        headers["If-Range"] = validator  # a changed file answers 200 with all of it, never the wrong rest
    try:
        response = session.get(url, stream=True, timeout=TIMEOUT_S, headers=headers)
    except requests.RequestException as exc:
        raise AecryptError(
            f"cannot reach {host} ({type(exc).__name__}): `aecrypt fetch` needs the network, the only aecrypt "
            "command that does; connect and run it again"
            + (f" (it resumes the {offset} bytes in {part})" if offset else "")
        ) from None
    with response:
        if response.status_code == 416 and offset:  # nothing after `offset`: the part is whole, or not this file
            response.close()
            return _restart(url, dest, md5, quiet, session, part, meta)
        if response.status_code not in (200, 206):
            raise AecryptError(f"{url}: the server answered {response.status_code} {response.reason}")
        span = _content_range(response.headers.get("Content-Range")) if response.status_code == 206 else None
        resumed = bool(offset) and span is not None and span[0] == offset
        if offset and resumed:
            say(f"{dest.name}: resuming after {offset} bytes")
        elif offset and span is not None:
            say(f"{dest.name}: the server answered from byte {span[0]}, not {offset}; starting over")
        elif offset:
            say(f"{dest.name}: the server does not resume downloads; starting over")
        if not resumed:
            if span is None and response.status_code == 206:
                raise AecryptError(f"{url}: a partial answer (206) without a valid Content-Range; run the fetch again")
            if span is not None and span[0] != 0:  # a rest that is not ours: ask for the whole file
                if not offset:
                    raise AecryptError(f"{url}: the server sent bytes from {span[0]} when the whole file was asked")
                response.close()
                return _restart(url, dest, md5, quiet, session, part, meta)
            offset = 0
            meta.write_text(json.dumps({"validator": _validator(response)}))
        length = response.headers.get("Content-Length")
        total = span[1] if span is not None else (int(length) if length is not None else None)
        with (
            part.open("ab" if resumed else "wb") as f,
            tqdm(
                total=total, initial=offset, unit="B", unit_scale=True, desc=dest.name, disable=quiet, file=sys.stderr
            ) as bar,
        ):
            try:  # read1: what has arrived, so an interruption loses none of the bytes already received
                while block := response.raw.read1(CHUNK_BYTES):
                    f.write(block)
                    bar.update(len(block))
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                raise AecryptError(_interrupted(dest, part, f.tell(), total, type(exc).__name__)) from None
            got = f.tell()
    if total is not None and got < total:
        raise AecryptError(_interrupted(dest, part, got, total, "the connection closed early"))
    if total is not None and got > total:
        part.unlink()
        meta.unlink(missing_ok=True)
        raise AecryptError(f"{dest.name}: {got} bytes arrived, more than the {total} the server stated; deleted")
    part.replace(dest)
    meta.unlink(missing_ok=True)
    if total is None and not md5:
        log.warning(f"{dest.name}: the server stated no length, so its SHA-256 is checked but not recorded")
    verify(dest, md5, record=total is not None)
    say(f"{dest.name}: {dest.stat().st_size} bytes, checksum verified")
    return dest


def _read_validator(meta: Path) -> str | None:
    try:
        found = json.loads(meta.read_text()).get("validator")
    except (OSError, ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def _restart(url, dest, md5, quiet, session, part, meta) -> Path:
    part.unlink(missing_ok=True)
    meta.unlink(missing_ok=True)
    return download(url, dest, md5, quiet, session)


def _interrupted(dest: Path, part: Path, got: int, total: int | None, why: str) -> str:
    of = f" of {total}" if total else ""
    kept = f"{part} is kept and the next fetch resumes it"
    return f"download of {dest.name} interrupted after {got}{of} bytes ({why}); {kept}"
