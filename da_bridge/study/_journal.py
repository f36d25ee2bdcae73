"""The embedded store's journal file: locked by the kernel, repaired when a writer died mid-line.

Optuna's `JournalFileBackend` appends one JSON line per operation under a lock
file. Its default lock is a symbolic link that a killed process leaves behind;
with a relative path the link dangles and every later process waits forever.
Here the lock is `fcntl.flock` on `<journal>.flock`, which the kernel releases
when its holder dies, so a lock can never outlive its process. (Without
`fcntl`, on Windows, Optuna's open-file lock on the absolute path is used: it
is released by force after 30 s.)

A process killed in the middle of an append, or a full disk, leaves a cut last
line; a later append would glue its record to it and make the file unreadable.
So every append first checks, under the lock, that the file ends with a
newline, and every open checks the last line: a damaged tail is set aside (the
whole file is copied to `<journal>.damaged-<time>` first) and cut off, with one
warning line. A record glued to a cut one by an older version is recovered.
A failed write (no space left, a signal) is cut back before the error is
raised, as `StoreError` in one line.
"""

from __future__ import annotations

import datetime
import functools
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from da_bridge._imports import require
from da_bridge.errors import StoreError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

LOCK_SUFFIX = ".flock"
DAMAGED_SUFFIX = ".damaged-"
_RECORD_START = b'{"op_code":'
_CHUNK = 1 << 16


class FlockLock:
    """An exclusive `flock` on `<journal>.flock`: the kernel drops it when its process dies.

    Each `acquire` opens the lock file anew, so threads and processes exclude each other.
    """

    def __init__(self, journal: str) -> None:
        self._path = journal + LOCK_SUFFIX
        self._fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the last descriptor drops the lock


def journal_backend(path: str | os.PathLike[str]) -> Any:
    """An Optuna journal backend on `path` that no dead process can lock or leave unreadable."""
    return _backend_class()(path)


@functools.cache
def _backend_class() -> type:
    journal = require("optuna.storages.journal", "optuna")
    base: Any = journal.JournalFileBackend

    class JournalBackend(base):
        """A journal file that no dead process can lock or leave unreadable."""

        def __init__(self, path: str | os.PathLike[str]) -> None:
            absolute = str(Path(path).absolute())
            _drop_dangling_link(absolute + ".lock")
            lock = FlockLock(absolute) if fcntl else journal.JournalFileOpenLock(absolute)
            try:
                super().__init__(absolute, lock_obj=lock)
            except OSError as exc:
                raise StoreError(f"cannot open the journal {absolute!r}: {exc.strerror or exc}") \
                    from exc
            self._activity = _Activity(absolute)
            try:
                with self._locked():
                    self._repair()
            except PermissionError:  # a read-only copy: read it as it is
                logger.debug("journal %s is read-only; not checked for damage", absolute)

        @property
        def path(self) -> str:
            return self._file_path

        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            lines = (json.dumps(log, separators=(",", ":")) for log in logs)
            data = ("\n".join(lines) + "\n").encode()
            with self._locked():
                self._repair_cut_tail()
                _append(self._file_path, data)

        def alone(self) -> bool | None:
            """True if no other process has this journal open (None: cannot tell here)."""
            return self._activity.alone()

        def repair(self) -> bool:
            """Scan the whole file for damage and mend it; True if anything was mended."""
            with self._locked():
                return self._mend()

        @contextmanager
        def _locked(self) -> Iterator[None]:
            self._lock.acquire()
            try:
                yield
            finally:
                self._lock.release()

        def _repair_cut_tail(self) -> None:
            """Under the lock: a last line without its newline was cut by a writer that died."""
            with open(self._file_path, "rb") as f:
                size = f.seek(0, os.SEEK_END)
                if size == 0:
                    return
                f.seek(size - 1)
                if f.read(1) == b"\n":
                    return
            self._repair()

        def _repair(self) -> None:
            """Under the lock: check the last line; on damage, scan and mend."""
            if not _tail_is_sound(self._file_path):
                self._mend()

        def _mend(self) -> bool:
            """Under the lock: keep a copy of a damaged file, then cut or mend it."""
            raw = Path(self._file_path).read_bytes()
            mended, problem = mend(raw, self._file_path)
            if problem is None:
                return False
            copy = _keep_copy(self._file_path)
            _rewrite(self._file_path, raw, mended)
            logger.warning("journal %s: %s; repaired (the damaged file is kept as %s)",
                           self._file_path, problem, copy)
            return True

    return JournalBackend


def mend(raw: bytes, path: str = "journal") -> tuple[bytes, str | None]:
    """The journal without its damage, and what the damage was (None: nothing to do).

    A cut or unreadable tail is dropped; a line that is a cut record followed by a
    whole one (what appending after a cut line made) keeps the whole one. A bad
    line followed by good ones that is not such a pair raises `StoreError`: the
    lines after it may depend on it, so nothing is rewritten.
    """
    lines = raw.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    kept: list[bytes] = []
    bad: list[int] = []
    glued = 0
    for number, line in enumerate(lines, start=1):
        if _record(line) is not None:
            if bad:
                _unreadable(path, bad[0])
            kept.append(line)
            continue
        whole = _glued_record(line)
        if whole is not None and not bad:
            kept.append(whole)
            glued += 1
        else:
            bad.append(number)
    problems = []
    if tail:
        problems.append(f"its last line was cut off ({len(tail)} bytes)")
    if bad:
        problems.append(f"{len(bad)} unreadable line(s) at its end (from line {bad[0]})")
    if glued:
        problems.append(f"{glued} record(s) glued to a cut line")
    if not problems:
        return raw, None
    return b"".join(line + b"\n" for line in kept), ", ".join(problems)


def _unreadable(path: str, number: int) -> None:
    raise StoreError(f"cannot read the journal {path!r}, line {number} (the lines before it "
                     "are intact; fix or delete that line to read the rest)")


def _record(line: bytes) -> dict | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "op_code" in record else None


def _glued_record(line: bytes) -> bytes | None:
    start = line.rfind(_RECORD_START)
    if start <= 0:
        return None
    whole = line[start:]
    return whole if _record(whole) is not None else None


def _tail_is_sound(path: str) -> bool:
    """The file is empty, or ends with a newline after a whole record."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return True
        start = max(0, size - _CHUNK)
        f.seek(start)
        chunk = f.read()
    if not chunk.endswith(b"\n"):
        return False
    cut = chunk.rfind(b"\n", 0, len(chunk) - 1)
    if cut < 0 and start > 0:
        return True  # a last line longer than the chunk: trust it, the scan on error finds it
    return _record(chunk[cut + 1:-1]) is not None


def _keep_copy(path: str) -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    copy = f"{path}{DAMAGED_SUFFIX}{stamp}"
    try:
        shutil.copyfile(path, copy)
    except OSError as exc:
        raise StoreError(f"the journal {path!r} is damaged and cannot be repaired: keeping a "
                         f"copy failed ({exc.strerror or exc})") from exc
    return copy


def _rewrite(path: str, raw: bytes, mended: bytes) -> None:
    """Cut the file when only its end changes (in place); otherwise replace it whole."""
    try:
        if raw.startswith(mended):
            os.truncate(path, len(mended))
            return
        temporary = f"{path}.repair"
        with open(temporary, "wb") as f:
            f.write(mended)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise StoreError(f"cannot repair the journal {path!r}: {exc.strerror or exc}") from exc


def _append(path: str, data: bytes) -> None:
    """Append whole lines, or nothing: a failed or interrupted write is cut back."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        size = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException as exc:
            _cut_back(fd, size)
            if isinstance(exc, OSError):
                raise StoreError(f"cannot write the journal {path!r}: {exc.strerror or exc} "
                                 "(nothing was half-written; free the space and resume)") from exc
            raise
    finally:
        os.close(fd)


def _cut_back(fd: int, size: int) -> None:
    try:
        os.ftruncate(fd, size)
    except OSError:
        logger.warning("could not cut back a failed write; the next open repairs it")


def _drop_dangling_link(lock: str) -> None:
    """Optuna's symlink lock of an older version, pointing nowhere: it can only block."""
    if os.path.islink(lock) and not os.path.exists(lock):
        try:
            os.unlink(lock)
        except OSError:
            return
        logger.warning("removed the stale lock %s left by a killed process", lock)


class _Activity:
    """A shared `flock` on `<journal>.active` held while the journal is open in this process.

    Whoever gets it exclusively knows that no other process has the journal open,
    so every RUNNING trial in it belongs to a dead process.
    """

    def __init__(self, journal: str) -> None:
        self._fd: int | None = None
        if fcntl is None:
            return
        try:
            self._fd = os.open(journal + ".active", os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._fd, fcntl.LOCK_SH)
        except OSError:
            self._fd = None

    def alone(self) -> bool | None:
        if self._fd is None:
            return None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        return True

    def __del__(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except (OSError, TypeError):  # at interpreter exit
                pass
