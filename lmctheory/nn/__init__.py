"""Small networks for LMC experiments: models (each knows its permutation spec)."""
