"""Writing files so that a reader never sees half of one (all chapters).

:func:`atomic_write` writes a file next to its destination and renames it into
place (``os.replace`` is atomic on POSIX), so an interrupted write leaves the
old file or the new one, never a mix. :func:`atomic_directory` does the same
for a directory of files that belong together (a run: weights, config and
metrics). New files get the usual permissions (``0666`` minus the umask), not
the ``0600`` of a temporary file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, payload: bytes | str | Callable[[BinaryIO], None]) -> Path:
    """Write ``payload`` to ``path`` atomically; create the parent directory if needed.

    Args:
        path: the destination.
        payload: bytes, text (written as UTF-8), or a function that writes to the
            open binary file (e.g. ``lambda f: torch.save(obj, f)``).

    Returns:
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(payload, str):
                f.write(payload.encode("utf-8"))
            elif isinstance(payload, bytes):
                f.write(payload)
            else:
                payload(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Fill a new directory and put it at ``path`` as one unit.

    Yields a temporary sibling directory; when the block ends without an error
    it replaces ``path`` (an existing ``path`` is moved aside first and deleted
    after), so ``path`` holds either the complete old contents or the complete
    new ones. On an error (or Ctrl-C) the temporary directory is removed and
    ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old: Path | None = None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "previous")
        os.replace(tmp, path)
    except BaseException:
        if old is not None and (old / "previous").exists() and not path.exists():
            os.replace(old / "previous", path)  # put the previous contents back
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
