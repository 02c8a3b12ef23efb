"""Exceptions raised by lmctheory.

Each derives from a built-in exception so that generic handlers keep working:
``ConvergenceError``, ``CacheMissError`` and ``DirtyCheckoutError`` are ``RuntimeError`` subclasses, ``ProblemTooLargeError`` a
``MemoryError``.
"""


class ConvergenceError(RuntimeError):
    """A solver stopped before certifying an exact (optimal) answer.

    lmctheory never returns a value from a solver that did not converge:
    POT's network simplex, for instance, returns a too-large cost with only a
    ``UserWarning`` when it hits ``numItermax`` (:ref:`theory-pot-pitfalls`).
    """


class ProblemTooLargeError(MemoryError):
    """The exact computation would need more memory than allowed."""


class CacheMissError(RuntimeError):
    """A sweep asked to use cached records only (``cached_only=True``) found configurations whose
    record is missing, unreadable, or stale (written by other code or another function).

    ``missing`` and ``stale`` hold the configurations of each kind.
    """

    def __init__(self, message: str, *, missing=(), stale=()):
        super().__init__(message)
        self.missing = list(missing)
        self.stale = list(stale)


class DirtyCheckoutError(RuntimeError):
    """Records were to be written into a directory the git checkout tracks (committed records, such as
    ``paper/lmctheory_paper/figures/cache``) while the checkout's code has uncommitted changes: such records would name a
    commit whose code did not compute them. Commit (or stash) the changes first."""
