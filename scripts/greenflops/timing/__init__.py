"""Measuring layers on the device at hand: the timing contract and dtypes, sweep grids, device
identity and facts, the timing harness, tensors and NVML energy, the resumable sweep runner, and
timing datasets on disk.
"""
