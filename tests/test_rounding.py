"""The assumptions of the rounding bounds (lmctheory.lmc, theory section 6.3), checked on this machine:
PyTorch's elementary functions in float64 are within LIBM_ULPS units in the last place of the exact values
(mpmath at 400 bits), and up / down / inflate move computed values past the exact ones."""

import math

import mpmath
import numpy as np
import pytest
import torch

from lmctheory.lmc._rounding import LIBM_ULPS, U, down, gamma, inflate, up

FUNCTIONS = {
    "exp": (torch.exp, mpmath.exp, (-745.0, 709.0)),
    "log": (torch.log, mpmath.log, (1e-300, 1e300)),
    "tanh": (torch.tanh, mpmath.tanh, (-20.0, 20.0)),
    "cosh": (torch.cosh, mpmath.cosh, (-700.0, 700.0)),
    "erf": (torch.erf, mpmath.erf, (-6.0, 6.0)),
}


def _ulp(value: float) -> float:
    return math.ulp(value) if value != 0 else 2.0**-1074


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_elementary_functions_are_within_the_assumed_ulps(name):
    fn, exact, (lo, hi) = FUNCTIONS[name]
    rng = np.random.default_rng(0)
    if name == "log":
        x = np.exp(rng.uniform(math.log(lo), math.log(hi), 4000))
    else:
        x = rng.uniform(lo, hi, 4000)
    x = np.concatenate(
        [x, rng.uniform(-1, 1, 2000) * (hi if name != "log" else 1.0) + (0 if name != "log" else 1.0)]
    )
    x = x[np.isfinite(x) & ((x > 0) if name == "log" else True)]
    computed = fn(torch.from_numpy(x)).numpy()
    worst = 0.0
    with mpmath.workprec(400):
        for xi, ci in zip(x.tolist(), computed.tolist(), strict=True):
            reference = exact(mpmath.mpf(xi))
            if not mpmath.isfinite(reference) or abs(reference) > 1.7e308:
                continue
            err = abs(mpmath.mpf(ci) - reference) / _ulp(float(reference))
            worst = max(worst, float(err))
    assert worst <= LIBM_ULPS, (name, worst)


def test_up_and_down_pass_the_exact_value_of_one_rounded_operation():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(20000) * 10.0 ** rng.integers(-300, 300, 20000)
    b = rng.standard_normal(20000) * 10.0 ** rng.integers(-300, 300, 20000)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    for op in (torch.add, torch.mul, torch.sub):
        computed = op(ta, tb)
        hi, lo = up(computed), down(computed)
        from fractions import Fraction

        for i in range(0, 20000, 97):  # exact rational check on a sample
            if not math.isfinite(computed[i].item()):
                continue
            exact = {
                "add": Fraction(a[i]) + Fraction(b[i]),
                "mul": Fraction(a[i]) * Fraction(b[i]),
                "sub": Fraction(a[i]) - Fraction(b[i]),
            }[op.__name__]
            assert Fraction(lo[i].item()) <= exact <= Fraction(hi[i].item())


def test_inflate_bounds_a_long_sum_of_nonnegative_terms():
    from fractions import Fraction

    rng = np.random.default_rng(2)
    for n in (10, 1000, 100000):
        x = np.abs(rng.standard_normal(n)) * 10.0 ** rng.integers(-20, 20, n)
        computed = torch.from_numpy(x).sum()
        exact = sum(Fraction(v) for v in x.tolist())
        assert exact <= Fraction(inflate(computed, n).item())
    assert gamma(10) >= 10 * U / (1 - 10 * U)
