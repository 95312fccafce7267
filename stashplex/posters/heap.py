"""glibc heap settings for a process that renders many posters.

Rendering allocates a few buffers of 0.5-2 MB per poster (decoded cover, canvas, JPEG output).
With glibc's defaults a fresh process serves each from a new mmap and trims the heap after each
poster, so every poster faults all its pages in again: measured at ~2.5 ms CPU per poster on
top of ~5 ms of rendering (scripts/bench_posters.py). Raising the two thresholds keeps those
buffers on the heap and reused, for a bounded cost: at most `trim` bytes of freed memory are kept
per malloc arena. Setting them explicitly also stops glibc's own adjustment, which would reach
the same state only after a large enough buffer happened to be freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 8 * 1024 * 1024
TRIM_THRESHOLD = 32 * 1024 * 1024
_done = False


def tune_malloc(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Apply the thresholds once per process (glibc only); True if they are in effect.

    Leaves things alone when the user set MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_.
    """
    global _done
    if _done:
        return True
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") or os.environ.get("MALLOC_TRIM_THRESHOLD_"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, mmap_threshold) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, trim_threshold) == 1 and ok
    _done = ok
    log.debug("malloc thresholds %s", "set" if ok else "not accepted")
    return ok
