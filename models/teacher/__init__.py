"""Offline teacher for IDN training: mesh warp + colour transfer + Poisson blend, and the
guide warp the warp-guided IDN takes as input (shared with the app's TS port)."""
