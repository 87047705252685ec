"""How a GPU (or CPU) library runs a convolution or dense layer: parameter-free kernel features.

Everything here is a deterministic function of layer shapes (:class:`~greenflops.alpha.features.
Features`) and device facts (:class:`~greenflops.alpha.device_facts.DeviceFacts`); the GPU time
models (:mod:`greenflops.alpha.gpu_models`) combine them with a few fitted parameters.

Implicit GEMM
    A convolution ``(batch, C_in, H, W) * (C_out, C_in, K_h, K_w)`` runs as a matrix product of
    ``M = batch · H_out · W_out`` rows (output positions, the α model's ``S``), ``N = C_out``
    columns and a reduction of ``K = C_in · K_h · K_w``; a dense layer is ``M = batch,
    N = c_out, K = c_in``. FLOPs = ``2·M·N·K``.

Tiles and waves
    The library computes the ``M × N`` output in tiles of ``m_t × n_t`` (one thread block
    each): ``tiles = ⌈M/m_t⌉·⌈N/n_t⌉``. The device runs ``n_sm`` tiles at a time, so the work
    takes ``waves = ⌈tiles / n_sm⌉`` rounds and the last, partial wave costs a full one. The
    multiply-add slots spent are ``waves · n_sm · m_t · n_t · K`` (:func:`padded_macs`).

Split-K
    With too few tiles to fill the device and a deep reduction, ``K`` is cut into ``s`` slices:
    ``s · tiles`` tiles of depth ``⌈K/s⌉`` and ``(s − 1)·2·M·N`` partial results through memory.

Kernel candidates
    A :class:`TileSet` lists what a library may pick for a class of layers; the model takes the
    fastest candidate (a ``min``). :func:`prune` drops candidates that can never be the fastest
    whatever the parameters (exact), so that evaluating a model is cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

__all__ = [
    "CPU_CONV_SET",
    "CPU_SET",
    "CUDNN_SET",
    "GEMM_SET",
    "MIN_SPLIT_DEPTH",
    "M_ONLY_SET",
    "N_GRANULE",
    "CandidateBlocks",
    "Candidates",
    "KernelView",
    "TileSet",
    "candidates",
    "ceil_div",
    "kernel_view",
    "n_tiles",
    "padded_macs",
    "prune",
    "split_k_allowed",
    "tile_inefficiency",
    "waves",
    "winograd_padding",
]

#: Smallest reduction depth of one split-K slice.
MIN_SPLIT_DEPTH: int = 256
#: Granule the output channels are padded to inside an "all of N" block.
N_GRANULE: int = 16


def ceil_div(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """``⌈a / b⌉`` for positive integers (element-wise)."""
    return -(-np.asarray(a, dtype=np.int64) // np.asarray(b, dtype=np.int64))


def n_tiles(m: np.ndarray | int, n: np.ndarray | int, m_t: int, n_t: int) -> np.ndarray:
    """Thread-block tiles covering an ``M × N`` output: ``⌈M/m_t⌉ · ⌈N/n_t⌉``."""
    return ceil_div(m, m_t) * ceil_div(n, n_t)


def waves(tiles: np.ndarray, n_sm: int | None) -> np.ndarray:
    """Rounds of ``n_sm`` concurrent tiles, ``⌈tiles / n_sm⌉`` (a partial wave costs a full
    one); with ``n_sm`` unknown, ``tiles`` itself (continuous: no quantisation)."""
    if n_sm is None:
        return np.asarray(tiles, dtype=float)
    return ceil_div(tiles, n_sm).astype(float)


def split_k_allowed(k: np.ndarray, s: int) -> np.ndarray:
    """Whether a reduction of depth ``K`` may be cut in ``s`` slices (each ≥ MIN_SPLIT_DEPTH)."""
    return (s == 1) | (np.asarray(k) >= s * MIN_SPLIT_DEPTH)


def padded_macs(m, n, k, m_t: int, n_t: int, s: int, n_sm: int | None) -> np.ndarray:
    """Device-wide multiply-add slots spent: ``waves · n_sm · m_t · n_t · ⌈K/s⌉``, counting
    partial tiles, the idle SMs of the last wave and split-K slices (``M·N·K`` only when every
    tile and every wave is full). Without ``n_sm``: ``tiles · m_t · n_t · ⌈K/s⌉``."""
    t = n_tiles(m, n, m_t, n_t) * s
    slots = waves(t, n_sm) * (n_sm if n_sm is not None else 1)
    return slots * m_t * n_t * ceil_div(k, s).astype(float)


def tile_inefficiency(m_t, n_t, half: float, ref: int = 128) -> np.ndarray:
    """Cost per multiply-add of an ``m_t × n_t`` tile relative to a ``ref × ref`` tile:
    ``(1 + half·(1/m_t + 1/n_t)) / (1 + half·2/ref)``. Each reduction step of a tile loads
    ``m_t + n_t`` operands for ``m_t · n_t`` multiply-adds; ``half`` is that load's cost in
    multiply-adds (Hockney's half-performance length of a tile edge)."""
    m_t, n_t = np.asarray(m_t, dtype=float), np.asarray(n_t, dtype=float)
    return (1.0 + half * (1.0 / m_t + 1.0 / n_t)) / (1.0 + half * 2.0 / ref)


def winograd_padding(h_out: np.ndarray, w_out: np.ndarray, tile: int = 2) -> np.ndarray:
    """Work of Winograd F(tile×tile, 3×3) relative to its output, ``⌈H_out/t⌉·⌈W_out/t⌉·t² /
    (H_out·W_out)`` (≥ 1; 1.31 for a 7×7 output with t = 2)."""
    ho, wo = np.maximum(h_out, 1), np.maximum(w_out, 1)
    return (ceil_div(ho, tile) * ceil_div(wo, tile) * tile * tile / (ho * wo)).astype(float)


@dataclass(frozen=True)
class TileSet:
    """The kernels a library may pick for one class of layers: block shapes ``(m_t, n_t)``
    (``n_t = 0``: all of N in one block, padded to :data:`N_GRANULE`, looping over the output
    channels) and the split-K factors allowed (``(1,)``: none)."""

    name: str
    tiles: tuple[tuple[int, int], ...]
    splits: tuple[int, ...] = (1,)


#: cuBLAS-like GEMM tiles (CUTLASS's SGEMM set plus Volta's 256-wide and the skinny tiles of
#: small batches), with split-K.
GEMM_SET = TileSet("gemm", ((256, 128), (128, 256), (128, 128), (128, 64), (64, 128), (64, 64),
                            (128, 32), (32, 128), (64, 32), (32, 64), (32, 32), (16, 128),
                            (128, 16)), (1, 2, 4, 8, 16, 32))
#: cuDNN (v5–v7) fp32 implicit-GEMM convolution kernels: 128 output positions × 32/64/128
#: filters (``*scudnn_128x{32,64,128}*``), no split-K.
CUDNN_SET = TileSet("cudnn", ((128, 32), (128, 64), (128, 128)))
#: Convolution kernels that tile output positions only (N looped inside the block).
M_ONLY_SET = TileSet("m_only", ((32, 0), (64, 0), (128, 0)))
#: CPU micro-kernels: register blocks (output positions × channels), one thread per "SM".
CPU_SET = TileSet("cpu", ((1, 16), (4, 16), (6, 16), (8, 8), (16, 4)))
#: CPU direct convolution (oneDNN-like): a row segment of output positions × all channels.
CPU_CONV_SET = TileSet("cpu_conv", ((32, 0),))


@dataclass(frozen=True)
class Candidates:
    """Per layer (rows) and kernel candidate (columns): padded multiply-add slots, tile edge
    ``1/m_t + 1/n_t``, split-K partial elements ``(s − 1)·2·M·N``, and which are valid."""

    macs: np.ndarray
    edge: np.ndarray
    split_elems: np.ndarray
    valid: np.ndarray

    def subset(self, rows: np.ndarray) -> Candidates:
        return Candidates(self.macs[rows], self.edge[rows], self.split_elems[rows],
                          self.valid[rows])


def _set_candidates(m, n, k, n_sm: int | None, ts: TileSet) -> list[tuple[np.ndarray, ...]]:
    out = []
    for m_t, n_t in ts.tiles:
        if n_t == 0:  # all of N in one block
            n_blk = ceil_div(n, N_GRANULE) * N_GRANULE
            base = ceil_div(m, m_t)
        else:
            n_blk = np.full(len(m), n_t)
            base = n_tiles(m, n, m_t, n_t)
        for s in (ts.splits if n_sm is not None else (1,)):
            ok = split_k_allowed(k, s)
            if s > 1:
                ok = ok & (base * (s // 2) < n_sm)  # split only while it still adds SM work
            slots = waves(base * s, n_sm) * (n_sm if n_sm is not None else 1)
            area = slots * m_t * n_blk
            out.append((area * ceil_div(k, s).astype(float),
                        (1.0 / m_t + 1.0 / np.minimum(n_blk, 128)).astype(float),
                        (s - 1) * 2.0 * m * n, ok))
    return out


def candidates(m: np.ndarray, n: np.ndarray, k: np.ndarray, n_sm: int | None,
               groups: Sequence[tuple[np.ndarray, TileSet]]) -> Candidates:
    """Every kernel candidate of every layer of GEMM shape ``M × N × K``. ``groups``: ``(mask,
    tile set)`` pairs partitioning the layers. Split-K only where the unsplit kernel leaves SMs
    idle and each slice is ≥ :data:`MIN_SPLIT_DEPTH` deep; without ``n_sm``, never."""
    m, n, k = (np.asarray(a, dtype=np.int64) for a in (m, n, k))
    cols = []
    for mask, ts in groups:
        for macs, edge, split, ok in _set_candidates(m, n, k, n_sm, ts):
            cols.append((macs, edge, split, ok & np.asarray(mask, bool)))
    return Candidates(*(np.stack([c[i] for c in cols], 1) for i in range(4)))


@dataclass(frozen=True)
class CandidateBlocks:
    """Pruned candidates with rows grouped by how many survive (ragged storage): block ``b``
    holds layers ``rows[b]`` with :class:`Candidates` of its own width, so evaluating a model
    costs ∝ Σ rows × width instead of rows × the widest layer."""

    n: int
    blocks: tuple[tuple[np.ndarray, Candidates], ...]

    def subset(self, index: np.ndarray) -> CandidateBlocks:
        """The layers at positions ``index`` (sorted integer positions or a boolean mask)."""
        mask = np.zeros(self.n, bool)
        mask[np.asarray(index)] = True
        new_index = np.cumsum(mask) - 1
        out = []
        for rows, c in self.blocks:
            keep = mask[rows]
            if keep.any():
                out.append((new_index[rows[keep]], c.subset(keep)))
        return CandidateBlocks(int(mask.sum()), tuple(out))


def _pareto_keep(macs, edge, split, valid) -> np.ndarray:
    width = macs.shape[1]
    keys = np.stack([macs, edge, split], axis=2)
    big = np.where(valid[..., None], keys, np.inf)
    le = np.all(big[:, None, :, :] <= big[:, :, None, :], axis=3)  # [r, i, j]: j <= i
    lt = np.any(big[:, None, :, :] < big[:, :, None, :], axis=3)
    v = valid[:, None, :]
    dominated = np.any(le & lt & v, axis=2)
    earlier = np.tril(np.ones((width, width), bool), k=-1)
    dup = np.any(le & ~lt & earlier[None] & v, axis=2)
    return valid & ~dominated & ~dup


def prune(c: Candidates, chunk: int = 4096, widths: tuple[int, ...] = (2, 4, 8)
          ) -> CandidateBlocks:
    """Drop, per layer, the candidates that can never be the fastest, and store the survivors
    in blocks of similar width (:class:`CandidateBlocks`).

    A candidate's time increases with each of ``macs``, ``edge`` and ``split_elems`` whatever
    the (non-negative) parameters, so one that is no better than another in all three and worse
    in one is dominated (Pareto pruning): exact, predictions are unchanged.
    """
    def take(a, ix):
        return np.take_along_axis(a, ix, axis=1)

    count = c.valid.sum(axis=1)
    by_count = np.argsort(count, kind="stable")
    order = np.argsort(~c.valid, axis=1, kind="stable")
    keep_n = np.zeros(len(c.macs), int)
    parts = []
    for lo in range(0, len(c.macs), chunk):
        rows = by_count[lo:lo + chunk]
        idx = order[rows, :max(int(count[rows].max()), 1)]
        arrs = [take(a[rows], idx) for a in (c.macs, c.edge, c.split_elems, c.valid)]
        keep = _pareto_keep(*arrs)
        o2 = np.argsort(~keep, axis=1, kind="stable")
        parts.append((rows, [take(a, o2) for a in arrs[:3]] + [take(keep, o2)]))
        keep_n[rows] = keep.sum(axis=1)
    blocks = []
    edges = (0, *widths, 10**9)
    for lo_w, hi_w in pairwise(edges):
        sel_rows, sel = [], [[] for _ in range(4)]
        for rows, arrs in parts:
            m = (keep_n[rows] > lo_w) & (keep_n[rows] <= hi_w)
            if m.any():
                w = max(int(keep_n[rows][m].max()), 1)
                sel_rows.append(rows[m])
                for i in range(4):
                    sel[i].append(arrs[i][m][:, :w])
        if not sel_rows:
            continue
        w = max(a.shape[1] for a in sel[0])
        padded = [np.concatenate([np.pad(a, ((0, 0), (0, w - a.shape[1])),
                                         constant_values=False if i == 3 else 1.0)
                                  for a in sel[i]]) for i in range(4)]
        rows = np.concatenate(sel_rows)
        order_rows = np.argsort(rows, kind="stable")
        blocks.append((rows[order_rows], Candidates(*(a[order_rows] for a in padded))))
    return CandidateBlocks(len(c.macs), tuple(blocks))


@dataclass(frozen=True)
class KernelView:
    """What a GPU model member needs of each layer, beyond its shape (see :func:`kernel_view`)."""

    blocks: CandidateBlocks | None  #: pruned kernel candidates (None: the member has no tiles)
    kn: np.ndarray  #: convolution with a kernel larger than 1×1 (im2col gather)
    wino: np.ndarray  #: 3×3 stride-1 convolution (Winograd-eligible)
    wino_pad: np.ndarray  #: Winograd's 2×2 output-tile padding (:func:`winograd_padding`)
    fft: np.ndarray  #: stride-1 convolution with a kernel of at least 5×5 (FFT-eligible)
    misaligned: np.ndarray  #: half precision on tensor cores with C_in or C_out not a multiple of 8
    tc_pad: np.ndarray  #: ⌈C_in⌉₈·⌈C_out⌉₈ / (C_in·C_out) on misaligned rows, else 1

    def subset(self, rows: np.ndarray) -> KernelView:
        return KernelView(self.blocks.subset(rows) if self.blocks is not None else None,
                          self.kn[rows], self.wino[rows], self.wino_pad[rows], self.fft[rows],
                          self.misaligned[rows], self.tc_pad[rows])


_CONV_SETS = {"gemm": GEMM_SET, "cudnn": CUDNN_SET, "m_only": M_ONLY_SET}


def _build_view(x, tiles: bool, conv_set: str, conv_rows: str) -> KernelView:
    device = x.device
    n_sm = device.n_sm if device is not None else None
    cpu = device is not None and device.kind == "cpu"
    m, n = x.s.astype(np.int64), x.c_out.astype(np.int64)
    k = np.round(x.c_red).astype(np.int64)
    kn = x.is_conv & (x.k_area > 1)
    blocks = None
    if tiles:
        # a convolution with a single output position is an inner product (GEMM kernels)
        conv = (kn if conv_rows == "kn" else x.is_conv) & (m > 1)
        if cpu:
            groups = [(~conv, CPU_SET), (conv, CPU_SET if conv_set == "gemm" else CPU_CONV_SET)]
        else:
            groups = [(~conv, GEMM_SET), (conv, _CONV_SETS[conv_set])]
        blocks = prune(candidates(m, n, k, n_sm, groups))
    wino = x.is_conv & (x.k_h == 3) & (x.k_w == 3) & (x.stride == 1)
    fft = x.is_conv & (x.stride == 1) & (np.minimum(x.k_h, x.k_w) >= 5)
    half = np.isin(x.dtype, ["float16", "bfloat16"])
    tensor = device is not None and device.tensor_cores
    c_in, c_out = x.c_in.astype(np.int64), n
    mis = tensor & half & ((c_in % 8 != 0) | (c_out % 8 != 0))
    tc_pad = np.where(mis, ceil_div(c_in, 8) * 8 * ceil_div(c_out, 8) * 8 / (c_in * c_out), 1.0)
    wino_pad = np.where(x.is_conv, winograd_padding(x.h_out, x.w_out), 1.0)
    return KernelView(blocks, kn, wino, wino_pad.astype(float), fft, np.asarray(mis, bool),
                      tc_pad.astype(float))


def kernel_view(x, tiles: bool = True, conv_set: str = "gemm", conv_rows: str = "all"
                ) -> KernelView:
    """The :class:`KernelView` of features ``x`` (:class:`~greenflops.alpha.features.Features`
    with device facts) for a model member: ``tiles`` builds the kernel candidates;
    ``conv_set`` is the tile set of the convolution kernels (``gemm``: the GEMM set, ``cudnn``:
    :data:`CUDNN_SET`, ``m_only``: :data:`M_ONLY_SET`; on a CPU every set but ``gemm`` means
    :data:`CPU_CONV_SET`) and ``conv_rows`` the convolutions that use it (``all`` or ``kn``:
    kernels larger than 1×1, the 1×1 ones then run as GEMMs). Built once per set of features a
    fit starts from and cut for its folds."""
    key = f"kernels:{tiles}:{conv_set}:{conv_rows}"
    return x.cached(key, lambda f: _build_view(f, tiles, conv_set, conv_rows),
                    lambda view, rows: view.subset(rows))
