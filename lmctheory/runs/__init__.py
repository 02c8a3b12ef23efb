"""Experiments that record what computed them: sweeps, provenance, re-runs and thread policy.

:func:`run_sweep` / :func:`run_sweeps` evaluate a function over a grid of configurations into
self-describing JSON records (config, seed, code identity, library versions, machine), reused while the
code is unchanged; :func:`record` / :func:`write_json` write such records; :func:`rerun` recomputes one
and :func:`compare` says whether it reproduced; :func:`limited_threads` keeps parallel workers from
oversubscribing the cores.
"""

from ._machine import (
    KERNEL_ENVIRONMENT,
    cpu_model,
    machine_info,
)
from ._provenance import (
    FIRST_PARTY,
    checkout_root,
    code_identity,
    dumps,
    function_id,
    git_revision,
    library_versions,
    record,
    to_jsonable,
    tracked_records_dir,
    write_json,
)
from ._rerun import (
    ENTRY_POINT_GROUP,
    IGNORED_KEYS,
    code_changed,
    compare,
    experiments,
    load_document,
    register_experiment,
    reproduction_tolerance,
    rerun,
    structure_differences,
)
from ._sweep import (
    Sweep,
    SweepResult,
    canonical_config,
    config_hash,
    load_results,
    prune_records,
    record_key,
    run_sweep,
    run_sweeps,
)
from ._threads import (
    available_cores,
    keep_freed_memory,
    limited_threads,
    return_freed_memory,
    thread_budget,
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
