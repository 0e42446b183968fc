"""numba, imported in one place (a required dependency of blackout).

The compiled parts of the study engines (:mod:`blackout.study.fastdc._compiled`,
:mod:`blackout.study.contingency.bridges`, :mod:`blackout.study.contingency.fdpf_kernel`)
take ``njit``, ``prange`` and ``get_num_threads`` from here.
"""

from __future__ import annotations

import numba
from numba import get_num_threads, njit, prange

__all__ = ["CHUNKS", "get_num_threads", "njit", "prange"]

#: right-hand sides / outages are split in this many chunks between threads: a
#: compile-time constant (a call to get_num_threads would keep the kernels out of
#: numba's on-disk cache); results do not depend on it
CHUNKS = 4 * max(1, int(getattr(numba.config, "NUMBA_NUM_THREADS", 1)))
