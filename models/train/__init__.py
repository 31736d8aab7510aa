"""IDN training: teacher pairs (build_set.py), the KD training loop (train.py), curves (plot.py)."""
