"""The machine record: what selected the kernels, checked against independent sources."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from lmctheory.runs import KERNEL_ENVIRONMENT, cpu_model, machine_info, record


def test_the_cpu_model_is_the_systems():
    if not os.path.exists("/proc/cpuinfo"):
        pytest.skip("no /proc/cpuinfo to compare with")
    names = [line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")]
    if names:
        assert cpu_model() == names[0]


def test_threadpools_are_threadpoolctls_and_numpy_dispatch_is_enabled_on_this_cpu():
    from threadpoolctl import threadpool_info

    info = machine_info()
    assert [p["internal_api"] for p in info["threadpools"]] == [p["internal_api"] for p in threadpool_info()]
    assert [p["num_threads"] for p in info["threadpools"]] == [p["num_threads"] for p in threadpool_info()]
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__
    assert all(__cpu_features__[name] for name in info["numpy_cpu"]["dispatch"])
    json.dumps(info, allow_nan=False)


def test_records_say_which_isa_torch_dispatched_to_and_which_overrides_were_set():
    # a fresh process with torch's kernels forced to the portable path: its record says so
    script = textwrap.dedent(
        """
        import json, torch
        from lmctheory.runs import record
        torch.ones(3) @ torch.ones(3)
        print(json.dumps(record("x", {}, 1)["machine"]))
        """
    )
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    machine = json.loads(out.stdout)
    # the portable path's name: "NO AVX" in torch 2.2 and 2.6 (measured with make test-min), "DEFAULT" in 2.13
    assert machine["torch"]["cpu_capability"] in ("DEFAULT", "NO AVX")
    assert machine["environment"]["ATEN_CPU_CAPABILITY"] == "default"
    assert machine["torch"]["build"]["settings"]["BUILD_TYPE"]


def test_torch_is_not_imported_for_the_records_sake():
    script = (
        "import sys, json; from lmctheory.runs._provenance import record; m = record('x', {}, 1)['machine']; "
        "print(json.dumps([m['torch'], 'torch' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    torch_field, imported = json.loads(out)
    if not imported:  # lmctheory's import did not pull torch in: the record must not either
        assert torch_field is None


def test_only_set_kernel_variables_are_recorded(monkeypatch):
    for name in KERNEL_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert record("x", {}, 1)["machine"]["environment"] == {"OMP_NUM_THREADS": "3"}


def test_recording_the_machine_does_not_make_torch_free_code_count_as_using_torch():
    # code_identity's import list decides whether a sweep limits (and so imports) torch for a configuration
    from lmctheory.runs import code_identity

    identity = code_identity(record)
    assert "lmctheory.runs" in identity["modules"] and "torch" not in identity["imports"]
