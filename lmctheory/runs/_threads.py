"""Thread policy: small networks and small solves run single-threaded per worker.

Intra-op threads (torch, BLAS, OpenMP) on the tiny GEMMs of small networks spin and fight over the
cores: with another CPU-bound process on a 2-core machine, a validation run measured 2-3x slower
wall time (and several times more CPU time) with the default thread counts than with one thread.
lmctheory therefore parallelises across configurations (worker processes of a sweep) and runs each
configuration with a fixed number of threads, by default one. A fixed count also makes results
independent of the number of workers: torch's reductions are summed in a different order with a
different thread count, and training amplifies the last-bit differences.

:func:`limited_threads` sets torch's intra-op thread count and the BLAS/OpenMP pools
(threadpoolctl) for the duration of a block and restores them afterwards, so nothing leaks into
the caller's process; :func:`thread_budget` is the number of threads code inside such a block may
use (lmctheory's own thread pools, e.g. the k-NN search, read it).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import sys
import threading

__all__ = ["limited_threads", "thread_budget", "available_cores", "keep_freed_memory", "return_freed_memory"]

_STATE = threading.local()


_KEPT = False


def keep_freed_memory() -> bool:
    """Keep freed memory in the process's heap instead of returning it to the system (glibc only).

    glibc serves allocations above an adaptive threshold with fresh pages from the system and gives the
    top of the heap back when it frees enough: a computation that allocates and frees tensors of a few
    megabytes in a loop then pays a page fault per 4 kB page each time, which on a virtual machine costs
    more than the arithmetic (measured: the certified supremum of :mod:`lmctheory.lmc` 1.2-1.5x faster,
    and the system time of a quick validation run). This sets ``M_MMAP_THRESHOLD`` to 1 GiB and
    ``M_TRIM_THRESHOLD`` to 2 GiB with ``mallopt``: the process keeps the memory it has used (its resident
    size stays at its peak). lmctheory's own processes (the command line, the workers of a sweep) call it;
    a library user may. Idempotent; a no-op where glibc is not the allocator.

    Returns
    -------
    bool
        Whether the setting took effect (False on other platforms or allocators).

    Examples
    --------
    >>> from lmctheory.runs import keep_freed_memory
    >>> keep_freed_memory() in (True, False)
    True
    """
    global _KEPT
    if _KEPT:
        return True
    mallopt = getattr(_glibc(), "mallopt", None)
    if mallopt is None:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    _KEPT = bool(mallopt(m_mmap_threshold, 1 << 30)) and bool(mallopt(m_trim_threshold, (1 << 31) - 1))
    return _KEPT


def return_freed_memory() -> bool:
    """Give the heap's free memory back to the system now (glibc's ``malloc_trim(0)``).

    The counterpart of :func:`keep_freed_memory` between units of work: a sweep's worker calls it after
    each configuration, so its resident size falls back to what it still uses and joblib's leak guard
    (which restarts a worker whose resident size grew by 300 MB) keeps the worker and its warm state
    (imports, cached data sets). A no-op where glibc is not the allocator.

    Returns
    -------
    bool
        Whether glibc's ``malloc_trim`` was called (False on other platforms or allocators).

    Examples
    --------
    >>> from lmctheory.runs import return_freed_memory
    >>> return_freed_memory() in (True, False)
    True
    """
    trim = getattr(_glibc(), "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True


@functools.cache
def _glibc():
    """glibc, loaded once (None on other platforms, or where the C library is not glibc)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it).

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> import os
    >>> from lmctheory.runs import available_cores
    >>> 1 <= available_cores() <= (os.cpu_count() or 1)
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def thread_budget() -> int:
    """Threads available to the current block: the innermost :func:`limited_threads` count, else every core.

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> from lmctheory.runs import available_cores, limited_threads, thread_budget
    >>> thread_budget() == available_cores()
    True
    >>> with limited_threads(2):
    ...     thread_budget()
    2
    """
    return getattr(_STATE, "budget", None) or available_cores()


@contextlib.contextmanager
def limited_threads(n: int | None = 1, *, torch: bool | None = None):
    """Run a block with ``n`` intra-op threads (torch, BLAS, OpenMP); restored on exit.

    ``n=None`` leaves every library as it is. torch's count is set when torch is already imported,
    or when ``torch=True`` (the block will use it: torch is imported first, so that its count is
    fixed even if the block imports it); its inter-op pool is left alone (it can be set only once
    per process).

    Parameters
    ----------
    n : int or None, default 1
        Threads for the block.
    torch : bool or None
        Import torch first and limit it (True), never touch it (False), or limit it when already
        imported (None).

    Returns
    -------
    context manager
        Use it in a ``with`` statement.

    Raises
    ------
    ValueError
        ``n`` is not an integer >= 1 or None.

    Examples
    --------
    >>> from lmctheory.runs import limited_threads, thread_budget
    >>> with limited_threads(1):
    ...     thread_budget()
    1
    """
    if n is None:
        yield
        return
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"threads must be an integer >= 1 or None, got {n!r}")
    from threadpoolctl import threadpool_limits

    if torch is None:
        torch = "torch" in sys.modules
    # imported by name: an `import torch` statement here would make every sweep look like a torch user
    # to the import scan of lmctheory.runs.code_identity
    torch = (
        importlib.import_module("torch") if torch and importlib.util.find_spec("torch") is not None else None
    )
    previous_torch = torch.get_num_threads() if torch is not None else None
    previous_budget = getattr(_STATE, "budget", None)
    _STATE.budget = n
    try:
        if torch is not None:
            torch.set_num_threads(n)
        with threadpool_limits(n):
            yield
    finally:
        _STATE.budget = previous_budget
        if torch is not None:
            torch.set_num_threads(previous_torch)
