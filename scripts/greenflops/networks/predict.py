"""A network's time on a device, op by op, under every time model, from its op table.

Every op of an op table (:mod:`greenflops.networks.graph`) belongs to one component:

``dense``
    convolutions with one group (``conv2d``), ``linear`` (``addmm``), ``matmul`` and the
    matrix products of attention (``attention``, ``sdpa``), priced by the device's time models
    of the α stage (``data/processed/alpha/<device_id>/params.yaml``): each is a row of the
    timing contract (:func:`matmul_rows`; a fused attention op is its input projection, Q·Kᵀ,
    P·V and output projection);
``grouped``
    depthwise (``dwconv``) and grouped (``gconv``) convolutions;
``other``
    batch norm, layer norm, activations, pooling, add, mul, cat, copies, and the softmax inside
    attention;
``free``
    views and allocations (no time).

The predictions of one device (:func:`predict_ops`) are one column per fitted time model (that
model on every matrix product, grouped convolutions included with their true S; other ops 0:
what FLOPs or α-FLOPs alone say) and the *combination* ``combo``: the device's model
(:func:`greenflops.alpha.document.device_time_model`) on the dense ops, the grouped-conv cost on
grouped ones and the per-kind op cost on the others (:mod:`greenflops.networks.costs`), kept per
component so that a whole-network correction can be applied (:func:`network_totals`).
Nothing here imports torch: op tables are read from CSV.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from greenflops.alpha.device_facts import facts_from_document
from greenflops.alpha.document import device_time_model, fitted_params
from greenflops.alpha.features import features_from_frame
from greenflops.alpha.models import MODEL_NAMES, get_model
from greenflops.networks.costs import GROUPED_KINDS, LinearCost, NetCorrection
from greenflops.timing.contract import DTYPES

__all__ = [
    "COMBO",
    "DENSE_KINDS",
    "component_of",
    "corrected_ops",
    "fitted_models",
    "matmul_rows",
    "network_totals",
    "predict_ops",
    "read_op_table",
]

#: Name of the combination (device model + grouped cost + op costs) in prediction tables.
COMBO = "combo"
#: Kinds priced by the conv/dense time models.
DENSE_KINDS: frozenset[str] = frozenset({"conv2d", "linear", "matmul", "attention", "sdpa"})
_FREE_KINDS = frozenset({"view", "alloc"})
_CONTRACT = ["op", "batch", "c_in", "c_out", "h", "w", "k_h", "k_w", "stride", "padding",
             "groups", "dtype", "flops"]


def component_of(kind: str) -> str:
    """``dense``, ``grouped``, ``other`` or ``free`` for an op-table kind."""
    if kind in _FREE_KINDS:
        return "free"
    if kind in DENSE_KINDS:
        return "dense"
    if kind in GROUPED_KINDS:
        return "grouped"
    return "other"


def read_op_table(path: Any, schema: Any) -> pd.DataFrame:
    """An op table CSV, validated against its schema (file, line and column on error)."""
    from greenflops.io.tables import read_table

    return read_table(path, schema)


def _dense_row(index: int, part: str, rows: int, k: int, n: int, dtype: str) -> dict[str, Any]:
    return {"index": index, "part": part, "op": "linear", "batch": int(rows), "c_in": int(k),
            "c_out": int(n), "h": 1, "w": 1, "k_h": 1, "k_w": 1, "stride": 1, "padding": 0,
            "groups": 1, "dtype": dtype, "flops": 2.0 * rows * k * n}


def matmul_rows(ops: pd.DataFrame, dtype: str = "float32") -> pd.DataFrame:
    """Timing-contract rows of the matrix products of an op table, with ``index`` (the op) and
    ``part`` (its piece: ``conv``, ``linear``, ``matmul``, ``qkv``, ``q``, ``kv``, ``qk``,
    ``pv``, ``out``). Their FLOPs add up to each op's ``flops``."""
    rows: list[dict[str, Any]] = []
    for r in ops.to_dict("records"):
        kind, i = r["kind"], int(r["index"])
        if kind in ("conv2d", *GROUPED_KINDS):
            rows.append({"index": i, "part": "conv", "op": "conv2d",
                         **{c: int(r[c]) for c in _CONTRACT[1:11]}, "dtype": dtype,
                         "flops": float(r["flops"])})
        elif kind in ("linear", "matmul"):
            rows.append(_dense_row(i, kind, r["batch"], r["c_in"], r["c_out"], dtype))
        elif kind in ("attention", "sdpa"):
            b, heads, l_q, l_k, e = (int(r[c]) for c in ("batch", "heads", "seq", "seq_k",
                                                          "embed"))
            if kind == "attention":
                if l_q == l_k:
                    rows.append(_dense_row(i, "qkv", b * l_q, e, 3 * e, dtype))
                else:
                    rows.append(_dense_row(i, "q", b * l_q, e, e, dtype))
                    rows.append(_dense_row(i, "kv", b * l_k, e, 2 * e, dtype))
            rows.append(_dense_row(i, "qk", b * heads * l_q, e // heads, l_k, dtype))
            rows.append(_dense_row(i, "pv", b * heads * l_q, l_k, e // heads, dtype))
            if kind == "attention":
                rows.append(_dense_row(i, "out", b * l_q, e, e, dtype))
    return pd.DataFrame(rows, columns=["index", "part", *_CONTRACT])


def fitted_models(params: Mapping[str, Any]) -> list[str]:
    """The time models fitted in a ``params.yaml``, in report order (:data:`MODEL_NAMES`)."""
    return [m for m in MODEL_NAMES if fitted_params(params, m) is not None]


def predict_ops(ops: pd.DataFrame, params: Mapping[str, Any],
                op_costs: Mapping[str, LinearCost] | None = None,
                dtype: str | None = None) -> pd.DataFrame:
    """Predicted milliseconds of every op of ``ops`` on one device.

    ``params`` is the device's ``params.yaml``; ``op_costs`` its per-kind costs
    (:func:`greenflops.networks.costs.fit_op_costs`; None: no combination); ``dtype`` the
    device's (default: the one its fit used; bytes scale with it). Columns: the op's
    ``index``, ``module``, ``module_type``, ``kind``, ``component``, ``flops``, ``bytes_moved``;
    ``ms_<model>`` for every fitted model; and for the combination (NaN without op costs)
    ``dense_ms``, ``grouped_ms``, ``other_ms`` and their sum ``ms_combo``.
    """
    dtypes = (params.get("data") or {}).get("dtypes") or ["float32"]
    dtype = dtype or str(dtypes[0])
    scale = DTYPES[dtype].bytes / 4.0  # op tables are captured in float32
    out = ops[["index", "module", "module_type", "kind", "flops"]].copy()
    out["component"] = [component_of(k) for k in out["kind"]]
    out["bytes_moved"] = (ops["bytes_in"] + ops["bytes_out"]).to_numpy(dtype=float) * scale
    rows = matmul_rows(ops, dtype)
    by_op = out["index"].to_numpy()
    # once for every model; the GPU family needs the device facts the fit used (SMs, CPU or GPU
    # tile sets)
    x = None if rows.empty else features_from_frame(rows, facts_from_document(params))
    for model in fitted_models(params):
        ms = pd.Series(np.zeros(0) if x is None else
                       get_model(model).predict(fitted_params(params, model), x), index=rows.index)
        out[f"ms_{model}"] = ms.groupby(rows["index"]).sum().reindex(by_op).fillna(0.0).to_numpy()
    chosen = device_time_model(params)
    out["dense_ms"] = out["grouped_ms"] = out["other_ms"] = np.nan
    if op_costs is None or chosen is None or f"ms_{chosen}" not in out:
        out[f"ms_{COMBO}"] = np.nan
        return out
    comp = out["component"].to_numpy()
    dense = np.where(comp == "dense", out[f"ms_{chosen}"].to_numpy(), 0.0)
    grouped = np.zeros(len(out))
    other = np.zeros(len(out))
    for i, (kind, c) in enumerate(zip(out["kind"], comp)):
        if c == "grouped":
            grouped[i] = _cost(op_costs, kind).predict(out["bytes_moved"].iat[i],
                                                       out["flops"].iat[i])
        elif c == "other":
            other[i] = _cost(op_costs, kind).predict(out["bytes_moved"].iat[i])
        elif kind in ("attention", "sdpa"):  # the softmax over B·heads·L·S scores
            r = ops.iloc[i]
            numel = int(r["batch"]) * int(r["heads"]) * int(r["seq"]) * int(r["seq_k"])
            other[i] = _cost(op_costs, "softmax").predict(2.0 * numel * DTYPES[dtype].bytes)
    out["dense_ms"], out["grouped_ms"], out["other_ms"] = dense, grouped, other
    out[f"ms_{COMBO}"] = dense + grouped + other
    return out


def _cost(op_costs: Mapping[str, LinearCost], kind: str) -> LinearCost:
    cost = op_costs.get(kind) or op_costs.get("default")
    if cost is None:
        raise ValueError(f"no op cost for kind {kind!r} and no default cost")
    return cost


def network_totals(per_op: pd.DataFrame,
                   correction: NetCorrection | None = None) -> dict[str, float]:
    """A forward pass's totals from :func:`predict_ops`: ``gflops``, ``ops`` (non-free),
    ``ms_<model>`` for every model column, the combination's parts ``dense_ms``,
    ``grouped_ms``, ``other_ms``, ``n_ops`` and, with ``correction``, ``ms_combo_corrected``."""
    busy = per_op["component"] != "free"
    totals: dict[str, float] = {"gflops": float(per_op["flops"].sum()) / 1e9,
                                "n_ops": float(busy.sum())}
    for col in [c for c in per_op.columns if c.startswith("ms_")]:
        totals[col] = float(per_op[col].sum(min_count=len(per_op)))
    for col in ("dense_ms", "grouped_ms", "other_ms"):
        totals[col] = float(per_op[col].sum(min_count=len(per_op)))
    if correction is not None:
        totals[f"ms_{COMBO}_corrected"] = float(correction.apply(
            totals["dense_ms"], totals["grouped_ms"], totals["other_ms"], totals["n_ops"]))
    return totals


def corrected_ops(per_op: pd.DataFrame, correction: NetCorrection) -> np.ndarray:
    """Each op's milliseconds under the corrected combination: its parts scaled by the
    correction's factors, plus the per-op overhead for every op that is not free (they sum to
    :func:`network_totals`'s ``ms_combo_corrected``)."""
    busy = (per_op["component"] != "free").to_numpy()
    return (correction.a_dense * per_op["dense_ms"].to_numpy(dtype=float)
            + correction.a_grouped * per_op["grouped_ms"].to_numpy(dtype=float)
            + correction.a_other * per_op["other_ms"].to_numpy(dtype=float)
            + np.where(busy, correction.c_op_ms, 0.0))
