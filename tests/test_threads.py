"""lmctheory.runs: thread budgets and the allocator settings of lmctheory's own processes."""

import subprocess
import sys
import textwrap

import pytest

from lmctheory.runs import available_cores, limited_threads, thread_budget

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt/malloc_trim")


def test_limited_threads_sets_and_restores_torch_threads():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    with limited_threads(1, torch=True):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_budget_is_the_innermost_limit_else_every_core():
    assert thread_budget() == available_cores() >= 1
    with limited_threads(1, torch=False):
        assert thread_budget() == 1
    assert thread_budget() == available_cores()


@linux_only
def test_kept_memory_stays_resident_until_returned():
    # 100 freed blocks of 4 MB: under keep_freed_memory() the heap keeps them (resident size unchanged);
    # return_freed_memory() gives them back (resident size falls by most of the 400 MB).
    script = textwrap.dedent(
        """
        import os
        import numpy as np
        from lmctheory.runs import keep_freed_memory, return_freed_memory

        def rss():
            return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

        assert keep_freed_memory()
        blocks = [np.ones(2**19) for _ in range(100)]
        full = rss()
        del blocks
        kept = rss()
        assert return_freed_memory()
        print(full, kept, rss())
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    full, kept, returned = map(float, out.split())
    assert kept > full - 50, (full, kept)
    assert returned < kept - 300, (kept, returned)
