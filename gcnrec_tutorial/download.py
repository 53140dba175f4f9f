"""Download, verify and extract files so that a failure leaves nothing half-done (chapter 1).

:func:`download` streams a URL into a temporary file beside its destination,
checking size, sha256 and (optionally) md5 as the bytes arrive; the file is
renamed into place only when all match (:func:`~gcnrec_tutorial.files.atomic_write`),
so an interrupted or corrupt download never leaves a file behind.
:func:`extract_folder` unpacks one folder of a zip archive and puts it in
place as one unit (:func:`~gcnrec_tutorial.files.atomic_directory`): it can be
run again over an incomplete or corrupt earlier extraction.
"""

from __future__ import annotations

import hashlib
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import BinaryIO

from .errors import DataError
from .files import atomic_directory, atomic_write

CHUNK = 1 << 20  # 1 MiB


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Return the hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def check_digest(path: Path, expected: str, *, algorithm: str = "sha256", fix: str) -> None:
    """Raise :class:`DataError` ``"<path>: <algorithm> mismatch (...) — <fix>"`` on a mismatch."""
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise DataError(f"{path}: {algorithm} mismatch (expected {expected}, got {actual}) — {fix}")


def download(
    url: str, dest: Path, *, sha256: str, md5: str | None = None, size: int | None = None
) -> Path:
    """Download ``url`` to ``dest`` atomically, verifying its size, sha256 and md5.

    The bytes go to a temporary file beside ``dest`` (whose parent is created if
    needed), hashed as they arrive; the file is renamed to ``dest`` only after
    every check passes, so a failed, interrupted or corrupt download leaves
    nothing at ``dest`` and no temporary file.

    Args:
        url: where to download from.
        dest: the file to create (replaced if it exists).
        sha256: the expected hex sha256 of the file.
        md5: the expected hex md5, checked too when given.
        size: the expected size in bytes, checked first when given.

    Returns:
        ``dest``.

    Raises:
        DataError: the URL cannot be read, or a check fails (the message names both).
    """
    offline = f"if this machine is offline, fetch {url} elsewhere and save it as {dest}"
    try:
        response = urllib.request.urlopen(url, timeout=60)
    except (urllib.error.URLError, OSError) as err:
        if isinstance(err, urllib.error.HTTPError):
            err.close()  # an HTTP error holds the open response
        raise DataError(f"could not download {url} ({err}) — {offline}") from err

    def write(out: BinaryIO) -> None:
        hashes = {"sha256": hashlib.sha256(), "md5": hashlib.md5()}
        got = 0
        try:
            for chunk in iter(lambda: response.read(CHUNK), b""):
                out.write(chunk)
                got += len(chunk)
                for h in hashes.values():
                    h.update(chunk)
        except OSError as err:
            raise DataError(f"could not download {url} ({err}) — {offline}") from err
        if size is not None and got != size:
            raise DataError(
                f"{url}: expected {size} bytes, got {got} — the download is truncated or not "
                f"the official file; try again, or {offline}"
            )
        for name, expected in (("sha256", sha256), ("md5", md5)):
            actual = hashes[name].hexdigest()
            if expected is not None and actual != expected:
                raise DataError(
                    f"{url}: {name} mismatch (expected {expected}, got {actual}) — the download "
                    f"is corrupt or not the official file; try again, or {offline}"
                )

    with response:
        return atomic_write(dest, write)


def extract_folder(archive: Path, member: str, dest: Path) -> Path:
    """Extract the folder ``member`` of a zip ``archive`` to ``dest``, as one unit.

    The files are written to a temporary sibling of ``dest``, which then
    replaces ``dest`` whole: an existing ``dest`` (complete, partial or corrupt)
    is swapped out only once the extraction succeeded.

    Args:
        archive: a zip file, already verified.
        member: the folder inside the archive, e.g. ``"ml-100k"``.
        dest: the folder to create or replace.

    Returns:
        ``dest``.
    """
    prefix = member.rstrip("/") + "/"
    with zipfile.ZipFile(archive) as zf, atomic_directory(dest) as tmp:
        for info in zf.infolist():
            name = info.filename
            if not name.startswith(prefix) or info.is_dir() or ".." in Path(name).parts:
                continue
            target = tmp / name[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    return dest
