"""Plumbing shared by every subpackage: argument checks and seeds (:mod:`lmctheory.utils.validation`) and
optional dependencies (:mod:`lmctheory.utils.optional`). Importing it imports neither NumPy's users nor torch."""
