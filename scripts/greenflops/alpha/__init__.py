"""Asperti et al. (2021), α-FLOPs: the α formula, layer features, time models, fitting and
validation on a device, the parameter document, smoothness floor, synthetic data, figures, the
Fig. 3a table, and whole networks.
"""
