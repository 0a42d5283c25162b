"""Where datasets are cached, and how a file is downloaded safely.

The cache directory is ``$GROUNDUP_DATA`` if set, else ``~/.cache/groundup``. A download never
leaves a partial or wrong file behind: bytes stream into a temporary file in the destination
directory while their SHA-256 is computed; only if the digest matches the one pinned in the code is
the temporary file atomically renamed (``os.replace``) into place. On a mismatch, or any error, the
temporary file is deleted and an exception says what happened. ``file://`` URLs work too (tests use
them), and :data:`urlopen` can be replaced to fetch from elsewhere.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

urlopen = urllib.request.urlopen
"""The function used to open URLs (``urllib.request.urlopen``); tests and proxies may replace it."""

_CHUNK = 1 << 20


class ChecksumError(RuntimeError):
    """A downloaded file's SHA-256 differs from the expected one (the file was not kept)."""


def cache_dir() -> Path:
    """The dataset cache: ``$GROUNDUP_DATA`` if set, else ``~/.cache/groundup`` (not created here)."""
    env = os.environ.get("GROUNDUP_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "groundup"


def sha256_file(path: str | os.PathLike) -> str:
    """The hex SHA-256 digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def download_url(url: str, path: str | os.PathLike, sha256: str, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``path``, keeping it only if its SHA-256 equals ``sha256``.

    The bytes go to a temporary file next to ``path`` and are moved into place with
    ``os.replace`` (atomic on one filesystem) after the check; a mismatch deletes the temporary file
    and raises :class:`ChecksumError`, any other failure deletes it and re-raises.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
        digest = h.hexdigest()
        if digest != sha256.lower():
            raise ChecksumError(
                f"checksum mismatch for {url}: expected SHA-256 {sha256}, got {digest}; the file was "
                "deleted (a corrupted download or a changed mirror — try again or another mirror)"
            )
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def fetch(filename: str, mirrors: Sequence[str], directory: str | os.PathLike, sha256: str) -> Path:
    """``directory/filename``, downloading it from the first mirror that works if it is not there yet.

    A file already present with the right checksum is reused. Each mirror is a URL prefix
    (``mirror + filename`` is fetched); errors from all of them are reported together.
    """
    path = Path(directory) / filename
    if path.exists() and sha256_file(path) == sha256.lower():
        return path
    errors = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        try:
            return download_url(url, path, sha256)
        except (OSError, http.client.HTTPException, ChecksumError, ValueError) as e:  # URLError is an OSError
            errors.append(f"  {url}: {e}")
    raise RuntimeError(f"could not download {filename} from any mirror:\n" + "\n".join(errors))
