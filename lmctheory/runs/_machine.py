"""The machine a result was computed on: what selects the numerical kernels, and so the rounding.

Two runs of the same code with the same seed agree bit for bit on the same machine and build. On
another CPU they can differ at the rounding level: NumPy and PyTorch dispatch to different SIMD
kernels by instruction set (AVX2 vs AVX-512), BLAS libraries block their sums by architecture and
thread count, and training amplifies such differences over its steps. A record therefore says which
of these were in effect: the CPU model, the instruction-set features NumPy and PyTorch dispatch on,
the BLAS/OpenMP libraries with their versions and thread counts (threadpoolctl), the environment
variables that override those choices, the torch build and the accelerator.

Nothing is imported for the record's sake: PyTorch's fields are filled only when torch is already
imported by the computation (a torch-free experiment's record carries ``"torch": None``).
"""

from __future__ import annotations

import functools
import os
import platform
import sys

__all__ = ["machine_info", "cpu_model", "KERNEL_ENVIRONMENT"]

#: environment variables that change which kernels run or how many threads they use
KERNEL_ENVIRONMENT = (
    "ATEN_CPU_CAPABILITY",
    "NPY_DISABLE_CPU_FEATURES",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_CBWR",
    "MKL_ENABLE_INSTRUCTIONS",
    "OPENBLAS_CORETYPE",
    "CUBLAS_WORKSPACE_CONFIG",
    "CUDA_VISIBLE_DEVICES",
)

#: the entries of torch's build settings that bear on numerics
_TORCH_BUILD_KEYS = (
    "BLAS_INFO",
    "LAPACK_INFO",
    "BUILD_TYPE",
    "COMMIT_SHA",
    "CUDA_VERSION",
    "CUDNN_VERSION",
    "USE_CUDA",
    "USE_MKL",
    "USE_MKLDNN",
    "USE_OPENMP",
)


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``sysctl`` on macOS, else ``platform.processor()``).

    Returns
    -------
    str
        For example ``"AMD EPYC 7B13"``; ``"unknown"`` when the system does not say.

    Examples
    --------
    >>> from lmctheory.runs import cpu_model
    >>> isinstance(cpu_model(), str) and len(cpu_model()) > 0
    True
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Processor", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        import subprocess

        try:
            out = subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=5
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            return out
    return platform.processor() or "unknown"


@functools.lru_cache(maxsize=1)
def _numpy_cpu() -> dict:
    """NumPy's compiled baseline and the dispatch targets this CPU enables (NumPy >= 1.20)."""
    try:
        from numpy._core import _multiarray_umath as umath  # NumPy 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core import _multiarray_umath as umath
    features = getattr(umath, "__cpu_features__", {})
    dispatch = getattr(umath, "__cpu_dispatch__", [])
    return {
        "baseline": list(getattr(umath, "__cpu_baseline__", [])),
        "dispatch": [name for name in dispatch if features.get(name)],
    }


def _threadpools() -> list[dict]:
    """The BLAS and OpenMP libraries loaded in this process, with their thread counts (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - a core dependency through scikit-learn
        return []
    keys = ("user_api", "internal_api", "prefix", "version", "num_threads", "threading_layer", "architecture")
    return [{key: pool.get(key) for key in keys} for pool in threadpool_info()]


@functools.lru_cache(maxsize=1)
def _torch_build() -> dict:
    # torch is taken from sys.modules, never imported here: an import statement would make every function
    # whose code closure reaches this module count as using torch (lmctheory.runs.code_identity)
    torch = sys.modules["torch"]
    settings = {}
    components = []
    for line in torch.__config__.show().splitlines():
        line = line.strip()
        if line.startswith("- Build settings:"):
            for item in line[len("- Build settings:") :].split(", "):
                key, _, value = item.partition("=")
                if key.strip() in _TORCH_BUILD_KEYS:
                    settings[key.strip()] = value.strip()
        elif line.startswith("- ") and not line.startswith("- C++ Version"):
            components.append(line[2:])
    return {"settings": settings, "components": components}


def _torch() -> dict | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    cuda = torch.cuda.is_available()
    return {
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "num_threads": torch.get_num_threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        "build": _torch_build(),
    }


def machine_info() -> dict:
    """What selected the kernels of the computation that just ran in this process.

    Returns
    -------
    dict
        ``cpu`` (model name), ``machine`` (architecture), ``cores`` (``os.cpu_count()``), ``numpy_cpu``
        (NumPy's compiled baseline and the SIMD dispatch targets enabled on this CPU), ``threadpools``
        (each loaded BLAS/OpenMP library: API, implementation, version, threads, threading layer,
        architecture it tuned for), ``environment`` (the set ones among :data:`KERNEL_ENVIRONMENT`),
        ``torch`` (None unless torch is imported: the ISA level of its CPU kernels, its thread count,
        whether deterministic algorithms are on, CUDA and cuDNN versions, the CUDA devices, the build's
        BLAS/LAPACK/commit settings and its math libraries).

    Examples
    --------
    >>> from lmctheory.runs import machine_info
    >>> info = machine_info()
    >>> sorted(info)
    ['cores', 'cpu', 'environment', 'machine', 'numpy_cpu', 'threadpools', 'torch']
    """
    return {
        "cpu": cpu_model(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "numpy_cpu": _numpy_cpu(),
        "threadpools": _threadpools(),
        "environment": {name: os.environ[name] for name in KERNEL_ENVIRONMENT if name in os.environ},
        "torch": _torch(),
    }
