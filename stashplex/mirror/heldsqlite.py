"""Point reads from SQLite that keep the GIL: the responder's hottest queries.

The stdlib `sqlite3` module releases the GIL around every step of every statement. For the
microsecond index seeks the responder makes, that release is the expensive part: under
waitress, each one hands the interpreter to another thread and the request waits to get it
back. Measured on the 100,000-scene benchmark it costs a quarter of the metadata route's
throughput. Calling the same SQLite library through `ctypes.PyDLL` keeps the GIL for the
duration of each call, so a request's reads run back to back.

Safety rules, since a call that blocks here blocks the whole process:
- only the library the stdlib module already loaded is used (found in /proc/self/maps), never a
  second copy: two copies of SQLite in one process break each other's POSIX file locks;
- no busy timeout: a read that would wait (SQLITE_BUSY, which WAL readers meet only during
  recovery) fails at once and the caller repeats it on a stdlib connection, which waits with
  the GIL released;
- only short indexed reads go through here; anything that scans uses the stdlib connection.
Where the library cannot be found this way (another OS, a statically linked build), `available()`
is False and everything uses the stdlib module.
"""

from __future__ import annotations

import ctypes
import sqlite3  # noqa: F401 - loads the library first, so /proc/self/maps shows which one
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_OK, _ROW, _DONE = 0, 100, 101
_INTEGER, _FLOAT, _TEXT, _BLOB, _NULL = 1, 2, 3, 4, 5
_OPEN_READWRITE = 0x2
_TRANSIENT = ctypes.c_void_p(-1)  # SQLITE_TRANSIENT: SQLite copies bound values

_lib: ctypes.PyDLL | None = None
_lib_loaded = False
_lib_lock = threading.Lock()


class HeldSqliteError(Exception):
    """A held read did not complete; repeat it on a stdlib connection."""


def _library_path() -> str | None:
    """The libsqlite3 shared object the stdlib module is using, if it uses one."""
    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in maps.splitlines():
        path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
        if "/libsqlite3" in path and ".so" in path:
            return path.strip()
    return None


def _load() -> ctypes.PyDLL | None:
    path = _library_path()
    if path is None:
        return None
    try:
        lib = ctypes.PyDLL(path)
    except OSError:
        return None
    p, i, i64, c, d = (
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_int64,
        ctypes.c_char_p,
        ctypes.c_double,
    )
    signatures: dict[str, tuple[list[Any], Any]] = {
        "sqlite3_open_v2": ([c, ctypes.POINTER(p), i, c], i),
        "sqlite3_close_v2": ([p], i),
        "sqlite3_exec": ([p, c, p, p, p], i),
        "sqlite3_prepare_v2": ([p, c, i, ctypes.POINTER(p), p], i),
        "sqlite3_finalize": ([p], i),
        "sqlite3_reset": ([p], i),
        "sqlite3_clear_bindings": ([p], i),
        "sqlite3_bind_int64": ([p, i, i64], i),
        "sqlite3_bind_double": ([p, i, d], i),
        "sqlite3_bind_text": ([p, i, c, i, p], i),
        "sqlite3_bind_null": ([p, i], i),
        "sqlite3_step": ([p], i),
        "sqlite3_column_count": ([p], i),
        "sqlite3_column_type": ([p, i], i),
        "sqlite3_column_int64": ([p, i], i64),
        "sqlite3_column_double": ([p, i], d),
        "sqlite3_column_text": ([p, i], c),  # NUL-terminated; see HeldConnection
        "sqlite3_column_blob": ([p, i], p),
        "sqlite3_column_bytes": ([p, i], i),
    }
    try:
        for name, (argtypes, restype) in signatures.items():
            function = getattr(lib, name)
            function.argtypes = argtypes
            function.restype = restype
    except AttributeError:
        return None
    return lib


def library() -> ctypes.PyDLL | None:
    global _lib, _lib_loaded
    with _lib_lock:
        if not _lib_loaded:
            _lib = _load()
            _lib_loaded = True
        return _lib


def available() -> bool:
    return library() is not None


class HeldConnection:
    """One read connection used by one thread; statements prepared once and kept.

    TEXT values are read as NUL-terminated strings (one call per value): the mirror's text has
    no NUL characters (Stash text loses control characters at the border; documents escape it).

    `close()` may come from another thread (the app shutting down while a background lookup
    still reads): a lock keeps it from freeing statements a read is stepping through, which
    would leave SQLite working on freed memory, and on file descriptors since reused.
    """

    def __init__(self, path: Path | str, pragmas: Sequence[str] = ()) -> None:
        lib = library()
        if lib is None:
            raise HeldSqliteError("no shared SQLite library to call")
        self._lib = lib
        self._lock = threading.Lock()  # uncontended but for close(): ~0.1 µs a read
        # Bound once: attribute lookups on the library object cost as much as the calls.
        self._step = lib.sqlite3_step
        self._reset = lib.sqlite3_reset
        self._bind_int = lib.sqlite3_bind_int64
        self._bind_text = lib.sqlite3_bind_text
        self._type = lib.sqlite3_column_type
        self._int = lib.sqlite3_column_int64
        self._text = lib.sqlite3_column_text
        self._db = ctypes.c_void_p()
        rc = lib.sqlite3_open_v2(
            str(path).encode("utf-8"), ctypes.byref(self._db), _OPEN_READWRITE, None
        )
        if rc != _OK:
            lib.sqlite3_close_v2(self._db)
            raise HeldSqliteError(f"cannot open {path} (SQLite error {rc})")
        self._statements: dict[str, tuple[ctypes.c_void_p, range]] = {}
        for pragma in (*pragmas, "PRAGMA busy_timeout=0"):
            if lib.sqlite3_exec(self._db, pragma.encode(), None, None, None) != _OK:
                self.close()
                raise HeldSqliteError(f"{pragma} failed")

    def _statement(self, sql: str) -> tuple[ctypes.c_void_p, range]:
        found = self._statements.get(sql)
        if found is None:
            statement = ctypes.c_void_p()
            rc = self._lib.sqlite3_prepare_v2(
                self._db, sql.encode("utf-8"), -1, ctypes.byref(statement), None
            )
            if rc != _OK:
                raise HeldSqliteError(f"cannot prepare a statement (SQLite error {rc})")
            found = statement, range(self._lib.sqlite3_column_count(statement))
            self._statements[sql] = found
        return found

    def rows(
        self, sql: str, params: Sequence[Any] = (), kinds: str | None = None, *, first: bool = False
    ) -> list[tuple[Any, ...]]:
        """All rows (or with `first`, at most the first one).

        `kinds` names each column's type when the caller knows it, one letter per column: "i"
        an INTEGER that is never NULL, "t" TEXT or NULL. Each value then costs one call instead
        of two; without it every value's type is asked.
        """
        with self._lock:
            if not self._db:
                raise HeldSqliteError("the connection is closed")
            return self._rows(sql, params, kinds, first)

    def _rows(
        self, sql: str, params: Sequence[Any], kinds: str | None, first: bool
    ) -> list[tuple[Any, ...]]:
        statement, columns = self._statement(sql)
        try:
            self._bind(statement, params)
            found = []
            step, column, text, integer = self._step, self._column, self._text, self._int
            while True:
                rc = step(statement)
                if rc == _ROW:
                    if kinds is None:
                        found.append(tuple([column(statement, c) for c in columns]))
                    else:
                        row = []
                        for c, kind in enumerate(kinds):
                            if kind == "i":
                                row.append(integer(statement, c))
                            else:
                                value = text(statement, c)
                                row.append(None if value is None else value.decode("utf-8"))
                        found.append(tuple(row))
                    if first:
                        return found
                elif rc == _DONE:
                    return found
                else:
                    raise HeldSqliteError(f"read failed (SQLite error {rc})")
        finally:
            self._reset(statement)

    def _bind(self, statement: ctypes.c_void_p, params: Sequence[Any]) -> None:
        for index, value in enumerate(params, start=1):
            if isinstance(value, int):  # bool included
                rc = self._bind_int(statement, index, value)
            elif isinstance(value, str):
                data = value.encode("utf-8")
                rc = self._bind_text(statement, index, data, len(data), _TRANSIENT)
            else:
                rc = self._bind_other(statement, index, value)
            if rc != _OK:
                raise HeldSqliteError(f"cannot bind a value (SQLite error {rc})")

    def _bind_other(self, statement: ctypes.c_void_p, index: int, value: Any) -> int:
        if value is None:
            return self._lib.sqlite3_bind_null(statement, index)
        if isinstance(value, float):
            return self._lib.sqlite3_bind_double(statement, index, value)
        raise HeldSqliteError(f"cannot bind a {type(value).__name__}")

    def _column(self, statement: ctypes.c_void_p, column: int) -> Any:
        kind = self._type(statement, column)
        if kind == _TEXT:
            return self._text(statement, column).decode("utf-8")
        if kind == _INTEGER:
            return self._int(statement, column)
        if kind == _NULL:
            return None
        lib = self._lib
        if kind == _FLOAT:
            return lib.sqlite3_column_double(statement, column)
        pointer = lib.sqlite3_column_blob(statement, column)
        size = lib.sqlite3_column_bytes(statement, column)
        return ctypes.string_at(pointer, size) if size else b""

    def close(self) -> None:
        with self._lock:
            for statement, _columns in self._statements.values():
                self._lib.sqlite3_finalize(statement)
            self._statements.clear()
            if self._db:
                self._lib.sqlite3_close_v2(self._db)
                self._db = ctypes.c_void_p()
