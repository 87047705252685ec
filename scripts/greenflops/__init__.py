"""greenflops: the library below the workflow's rules (pure, typed functions that tests import).

Subpackages by concern: ``io`` (reading, validating and writing files), ``trends`` (Desislavov
et al. 2021), ``timing`` (measuring layers on a device), ``alpha`` (Asperti et al. 2021's time
models), ``imports`` (public timing datasets converted into the timing contract),
``networks`` (whole networks op by op, beyond both papers); ``flops`` counts FLOPs.
Scripts in ``scripts/`` are thin wrappers that rules run; ``python -m greenflops`` (with
``scripts/`` on the path) is the command line.
"""
