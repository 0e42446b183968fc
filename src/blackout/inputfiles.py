"""Reading a user's input file safely: one helper for every reader.

Case files, scenario files, evidence and hypothesis files all come through
here, so each gets the same guarantees:

- the path must name a **regular file**: a directory, a named pipe (FIFO), a
  device (``/dev/zero``) or a socket is refused at once, never read, never
  waited on (the file is opened non-blocking and checked on the open handle);
- the file must be **under a size cap**: :data:`CASE_MAX_BYTES` (256 MiB) for
  case files, :data:`TEXT_MAX_BYTES` (4 MiB) for scenario, evidence and
  hypothesis files; at most cap + 1 bytes are ever read;
- text must be **UTF-8** (a UTF-8 byte-order mark is allowed); UTF-16 or a
  Latin-1 byte is one clear error naming the line.

Every refusal is the caller's :class:`~blackout.errors.BlackoutError` subclass
(exit status 2 in the CLI), with a message that starts with the file's path.

Examples
--------
>>> from blackout.errors import ScenarioError
>>> read_text("/no/such/file.yaml", what="scenario", error=ScenarioError)
Traceback (most recent call last):
...
blackout.errors.ScenarioError: /no/such/file.yaml: scenario file not found
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from blackout.errors import BlackoutError

__all__ = ["CASE_MAX_BYTES", "TEXT_MAX_BYTES", "MAX_NESTING", "read_bytes", "read_text",
           "check_nesting"]

#: Largest case file read, bytes (256 MiB: case9241pegase as MATPOWER text is ~3 MB).
CASE_MAX_BYTES = 256 * 1024 * 1024
#: Largest scenario, evidence or hypothesis file read, bytes (4 MiB).
TEXT_MAX_BYTES = 4 * 1024 * 1024
#: Deepest nesting of lists/mappings accepted in a parsed JSON/YAML/TOML document.
MAX_NESTING = 64


def _fail(error: type[BlackoutError], path: Path, message: str) -> BlackoutError:
    return error(f"{path}: {message}")


def read_bytes(path: str | Path, *, max_bytes: int, what: str = "input",
               error: type[BlackoutError] = BlackoutError) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` bytes.

    Parameters
    ----------
    path : the file.
    max_bytes : the size cap, bytes.
    what : what the file is, for messages ("case", "scenario", ...).
    error : the BlackoutError subclass raised.

    Raises
    ------
    error
        The file is missing, not a regular file (directory, FIFO, device,
        socket), unreadable, or over ``max_bytes``.
    """
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _fail(error, path, f"{what} file not found") from None
    except OSError as exc:
        raise _fail(error, path, f"cannot read the {what} file: {exc.strerror}") from None
    except ValueError:  # a NUL byte in the path
        raise _fail(error, path, f"not a valid {what} file name") from None
    _check_kind(st.st_mode, path, what, error)
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO after the stat, open does not wait
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _fail(error, path, f"cannot read the {what} file: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        _check_kind(st.st_mode, path, what, error)
        if st.st_size > max_bytes:
            raise _too_big(error, path, what, st.st_size, max_bytes)
        chunks = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise _fail(error, path, f"cannot read the {what} file: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise _too_big(error, path, what, len(data), max_bytes)
    return data


def _check_kind(mode: int, path: Path, what: str, error: type[BlackoutError]) -> None:
    if stat.S_ISDIR(mode):
        raise _fail(error, path, f"is a directory, not a {what} file")
    if not stat.S_ISREG(mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise _fail(error, path, f"is {kind}, not a regular {what} file")


def _too_big(error: type[BlackoutError], path: Path, what: str, size: int,
             cap: int) -> BlackoutError:
    return _fail(error, path, f"{what} file is over the {cap / 2**20:g} MiB limit"
                 + (f" ({size / 2**20:.1f} MiB)" if size > cap else ""))


def read_text(path: str | Path, *, max_bytes: int = TEXT_MAX_BYTES, what: str = "input",
              error: type[BlackoutError] = BlackoutError) -> str:
    """The text of a regular UTF-8 file of at most ``max_bytes`` bytes.

    A leading UTF-8 byte-order mark is dropped. UTF-16 (by its byte-order mark or
    NUL bytes) and any byte sequence that is not UTF-8 raise ``error`` naming the
    line and the byte.
    """
    path = Path(path)
    data = read_bytes(path, max_bytes=max_bytes, what=what, error=error)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:4096]:
        raise _fail(error, path, f"the {what} file is UTF-16 (or binary), not UTF-8 text; "
                    "save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start: exc.start + 1].hex()
        raise _fail(error, path, f"line {line}: byte 0x{byte} is not UTF-8 text; save the "
                    f"{what} file as UTF-8") from None


def check_nesting(value: object, *, limit: int = MAX_NESTING) -> int | None:
    """The depth at which ``value`` (parsed JSON/YAML/TOML) nests deeper than ``limit``.

    Returns None when it does not. Iterative: safe on any depth.
    """
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            continue
        if depth > limit:
            return depth
        stack.extend((c, depth + 1) for c in children)
    return None
