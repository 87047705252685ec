"""Importers of public layer-timing datasets into the timing contract: the alpha-FLOPs paper's
own T2000 measurements (``asperti2021``) and Baidu DeepBench's GPU kernel times (``deepbench``),
with their shared rows, drop accounting, restricted loaders and all-or-nothing writing.
"""
