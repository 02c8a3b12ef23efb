"""Experiments that record what computed them: sweeps, provenance, re-runs and thread policy.

:func:`run_sweep` / :func:`run_sweeps` evaluate a function over a grid of configurations into
self-describing JSON records (config, seed, code identity, library versions, machine), reused while the
code is unchanged; :func:`record` / :func:`write_json` write such records; :func:`rerun` recomputes one
and :func:`compare` says whether it reproduced; :func:`limited_threads` keeps parallel workers from
oversubscribing the cores.
"""

from ._sweep import (
    config_hash,
    record_key,
    Sweep,
    SweepResult,
    run_sweep,
    run_sweeps,
    prune_records,
    load_results,
    canonical_config,
)
from ._provenance import (
    record,
    write_json,
    to_jsonable,
    library_versions,
    code_identity,
    function_id,
    git_revision,
    tracked_records_dir,
    checkout_root,
    FIRST_PARTY,
    dumps,
)
from ._rerun import (
    rerun,
    compare,
    load_document,
    code_changed,
    register_experiment,
    experiments,
    ENTRY_POINT_GROUP,
    IGNORED_KEYS,
    reproduction_tolerance,
    structure_differences,
)
from ._threads import (
    limited_threads,
    thread_budget,
    available_cores,
    keep_freed_memory,
    return_freed_memory,
)
from ._machine import (
    machine_info,
    cpu_model,
    KERNEL_ENVIRONMENT,
)

__all__ = [
    "config_hash",
    "record_key",
    "Sweep",
    "SweepResult",
    "run_sweep",
    "run_sweeps",
    "prune_records",
    "load_results",
    "canonical_config",
    "record",
    "write_json",
    "to_jsonable",
    "library_versions",
    "code_identity",
    "function_id",
    "git_revision",
    "tracked_records_dir",
    "checkout_root",
    "FIRST_PARTY",
    "dumps",
    "rerun",
    "compare",
    "load_document",
    "code_changed",
    "register_experiment",
    "experiments",
    "ENTRY_POINT_GROUP",
    "IGNORED_KEYS",
    "reproduction_tolerance",
    "structure_differences",
    "limited_threads",
    "thread_budget",
    "available_cores",
    "keep_freed_memory",
    "return_freed_memory",
    "machine_info",
    "cpu_model",
    "KERNEL_ENVIRONMENT",
]
