"""Op capture: kinds, module names, FLOPs against torch.utils.flop_counter (complete count),
bytes rules, attention, and the op table's contract."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from greenflops.io.tables import load_schema, validate_records
from greenflops.networks import crosscheck, graph
from greenflops.networks.measure import schema_records

ROOT = Path(__file__).resolve().parents[1]
OPS_SCHEMA = ROOT / "workflow" / "schemas" / "network_ops.schema.yaml"


class Block(nn.Module):
    """conv → BN → ReLU, depthwise conv, grouped conv, residual add, SE-style mul, cat, pooling,
    linear: the ops of the networks in small."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 5, stride=2, padding=2, groups=8, bias=False)
        self.gc = nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        y = F.relu(self.bn(self.conv(x)), inplace=True)
        z = self.dw(y)
        z = z + self.gc(z)
        s = torch.sigmoid(F.adaptive_avg_pool2d(z, 1))
        z = z * s
        z = torch.cat([z, F.max_pool2d(y, 2)], 1)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(z, 1), 1))


class SelfAttention(nn.Module):
    def __init__(self, embed: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(embed, heads, batch_first=True)

    def forward(self, x):
        return self.mha(x, x, x, need_weights=False)[0]


@pytest.fixture(scope="module")
def block():
    torch.manual_seed(0)
    return Block().eval()


def test_kinds_cover_functional_ops(block):
    recs = graph.capture(block, torch.zeros(2, 3, 16, 16))
    kinds = {r.kind for r in recs if not r.free}
    assert {"conv2d", "batchnorm", "relu", "dwconv", "gconv", "add", "adaptive_avgpool",
            "sigmoid", "mul", "maxpool", "cat", "linear"} <= kinds
    assert "other" not in kinds


def test_module_names(block):
    recs = graph.capture(block, torch.zeros(1, 3, 16, 16))
    by_kind = {r.kind: r for r in recs}
    assert by_kind["conv2d"].module == "conv" and by_kind["dwconv"].module == "dw"
    assert by_kind["add"].module == ""  # functional op in the top module's forward


def test_grouped_conv_flops_by_hand(block):
    recs = graph.capture(block, torch.zeros(2, 3, 16, 16))
    dw = next(r for r in recs if r.kind == "dwconv")
    # B · C_out · H_out · W_out · (C_in / groups) · K², ×2
    assert dw.shape["groups"] == 8 and dw.flops == 2 * 2 * 8 * 8 * 8 * 1 * 5 * 5
    assert dw.shape["stride"] == 2 and dw.shape["padding"] == 2
    gc = next(r for r in recs if r.kind == "gconv")
    assert gc.flops == 2 * 2 * 8 * 8 * 8 * 4 * 3 * 3


def test_total_matches_flop_counter(block):
    x = torch.zeros(2, 3, 16, 16)
    ours = sum(r.flops for r in graph.capture(block, x))
    assert ours == crosscheck.flop_counter_total(block, x)
    assert crosscheck.hook_conv_linear_flops(block, x) == ours


def test_bytes_conv_inplace_broadcast_views(block):
    recs = graph.capture(block, torch.zeros(1, 3, 16, 16))
    conv = next(r for r in recs if r.kind == "conv2d")
    x_b, w_b, y_b = 3 * 16 * 16 * 4, 8 * 3 * 9 * 4, 8 * 16 * 16 * 4
    assert (conv.bytes_in, conv.bytes_weight, conv.bytes_out) == (x_b + w_b, w_b, y_b)
    relu = next(r for r in recs if r.kind == "relu")
    assert relu.bytes_in == relu.bytes_out == y_b  # in place: read and written
    x, s = torch.zeros(2, 4, 8, 8), torch.zeros(2, 4, 1, 1)
    mul = next(r for r in graph.capture_fn(lambda: x * s.expand_as(x)) if r.kind == "mul")
    assert mul.bytes_in == (2 * 4 * 64 + 2 * 4) * 4  # the broadcast counts its storage
    square = next(r for r in graph.capture_fn(lambda: x * x) if r.kind == "mul")
    assert square.bytes_in == 2 * 4 * 64 * 4  # one tensor read once
    t = torch.zeros(2, 3, 4, 5)
    views = graph.capture_fn(lambda: t.view(2, 60).t())
    assert views and all(r.free and r.bytes_moved == 0 for r in views)


def test_attention_fast_path_expanded_and_flop_counter_gap():
    torch.manual_seed(0)
    m, x = SelfAttention().eval(), torch.zeros(2, 10, 32)
    b, l, e = 2, 10, 32
    expected = 2 * b * l * e * 3 * e + 2 * 2 * b * l * l * e + 2 * b * l * e * e
    recs = graph.capture(m, x)
    att = [r for r in recs if r.kind == "attention"]
    assert att and att[0].flops == expected and att[0].shape["heads"] == 4
    assert sum(r.flops for r in recs) == expected
    assert crosscheck.flop_counter_total(m, x) == expected  # fast path off, math SDPA
    assert crosscheck.flop_counter_total(m, x, complete=False) < expected  # what it misses


def test_sdpa_counted():
    q = torch.zeros(2, 3, 7, 8)
    k = torch.zeros(2, 3, 5, 8)
    recs = graph.capture_fn(lambda: F.scaled_dot_product_attention(q, k, k))
    flops = sum(r.flops for r in recs)
    assert flops == 2 * 2 * 3 * 7 * 5 * 8 * 2  # Q·Kᵀ and P·V


def test_op_table_contract(block):
    table = graph.op_table(graph.capture(block, torch.zeros(1, 3, 16, 16)))
    assert tuple(table.columns) == graph.OP_TABLE_COLUMNS
    assert str(table["flops"].dtype) == "int64"
    validate_records(schema_records(table), load_schema(OPS_SCHEMA), "block")
    conv = table[table["kind"] == "conv2d"].iloc[0]
    assert (conv["c_in"], conv["c_out"], conv["k_h"], conv["groups"]) == (3, 8, 3, 1)
    lin = table[table["kind"] == "linear"].iloc[0]
    assert (lin["batch"], lin["c_in"], lin["c_out"]) == (1, 16, 10)
