"""How the server process's C allocator keeps freed memory (glibc only).

glibc hands an allocation of 128 KB or more to the kernel as fresh pages, and gives freed
memory at the top of a heap back: a 2 MB upload received, joined and hashed then costs
hundreds of page faults per request, each page zeroed by the kernel (bench-peers W3: about
500 per request, 13 % of the server's CPU).  Served from heaps that keep what was freed,
the next request reuses the same memory.
"""
from __future__ import annotations

import ctypes
import platform

M_TRIM_THRESHOLD = -1  # glibc's mallopt() parameters (malloc.h)
M_MMAP_THRESHOLD = -3
#: Allocations below this come from the heaps (glibc's largest allowed value on 64-bit).
MMAP_THRESHOLD = 32 << 20
#: Freed memory kept at the top of a heap, not given back to the kernel.
TRIM_THRESHOLD = 64 << 20


def keep_freed_memory() -> bool:
    """Make this process's glibc keep and reuse freed memory (MMAP_THRESHOLD,
    TRIM_THRESHOLD); whether it did (False on other C libraries, which are left as they
    are).  For the ``mockface serve`` process only: it changes the whole process."""
    if platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
