"""Desislavov et al. (2021), compute and energy trends of inference: speed-ups (Tables 3-4), GPU
efficiency (Table 9), FLOPs estimates, energy per forward pass, trend fits and their selections,
correlations, fidelity, Tables 1/4/9, and the figures with their registry.
"""
