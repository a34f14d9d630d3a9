"""Files written whole or not at all: :func:`atomic_write`.

Every file OpenVNS writes for a user or for itself (trial exports and reports, the saved state of
the virtual implant, the recruitment-table cache) goes through :func:`atomic_write`: the content
is written to a temporary file in the target's directory, flushed to disk, given the mode a new
file would have, and renamed over the target with :func:`os.replace` (atomic on POSIX and
Windows); the directory is then synced so the rename survives a crash. A reader sees the old file
or the new one, never a half-written one; if the writer fails, the target is untouched and the
temporary file is removed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from openvns.errors import ValidationError

log = logging.getLogger(__name__)

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems that refuse fsync on directories
        log.debug("fsync of directory %s not supported", directory)
    finally:
        os.close(fd)


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then replace ``path`` with it.

    Parameters
    ----------
    path
        Target file; its directory must exist.
    write
        Writes the complete content to the path it is given (``tmp.write_text(...)``,
        ``pq.write_table(table, str(tmp))``, ...).

    Returns
    -------
    Path
        ``path``. On any error (including one raised by ``write``) the temporary file is removed
        and ``path`` is left as it was.

    Raises
    ------
    ValidationError
        If the directory of ``path`` does not exist.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise ValidationError("path", str(path), "a file in an existing directory")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_directory(directory)
    return target


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """:func:`atomic_write` of ``data``."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write` of ``text`` in UTF-8."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
