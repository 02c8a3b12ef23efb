"""Exceptions raised by lmctheory.

Both derive from built-in exceptions so that generic handlers keep working:
``ConvergenceError`` is a ``RuntimeError`` and ``ProblemTooLargeError`` is a
``MemoryError``.
"""


class ConvergenceError(RuntimeError):
    """A solver stopped before certifying an exact (optimal) answer.

    lmctheory never returns a value from a solver that did not converge:
    POT's network simplex, for instance, returns a too-large cost with only a
    ``UserWarning`` when it hits ``numItermax`` (THEORY.md §2).
    """


class ProblemTooLargeError(MemoryError):
    """The exact computation would need more memory than allowed."""
