"""Whole networks (beyond both papers): the architectures people run, every op of a forward pass
with its FLOPs and bytes (:mod:`~greenflops.networks.graph`), a cost per op
(:mod:`~greenflops.networks.costs`), predicted vs measured time
(:mod:`~greenflops.networks.predict`), energy estimates (:mod:`~greenflops.networks.energy`) and
the ``cost`` command (:mod:`~greenflops.networks.report`)."""
