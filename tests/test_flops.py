"""FLOPs formulas of Asperti et al. (2021), eq. 3 and eq. 4, checked against the paper's numbers."""

import pytest

from greenflops.flops import (
    conv2d_flops,
    conv2d_output_size,
    dense_flops,
    flops_from_macs,
    gemm_flops,
    macs_from_flops,
)

FIG1A_FLOPS = 327_680_000  # "327.68 M FLOPs" (Fig. 1a)


def test_dense_layer_of_fig1a_is_327_68_mflops():
    assert dense_flops(12800, 12800) == FIG1A_FLOPS


@pytest.mark.parametrize(
    ("w", "h", "c_in", "c_out"),
    [(1, 1, 12800, 12800), (1, 2, 6400, 12800), (2, 2, 6400, 6400), (4, 4, 3200, 3200)],
)
def test_every_convolution_of_fig1a_is_327_68_mflops(w, h, c_in, c_out):
    assert conv2d_flops(c_in, c_out, h=h, w=w, k_h=1) == FIG1A_FLOPS


def test_dense_equals_unary_convolution_on_1x1_input():
    # Section 4: a dense D_in x D_out layer is a K=1 convolution with H=W=1.
    assert dense_flops(300, 700) == conv2d_flops(300, 700, h=1, w=1, k_h=1)


def test_conv_hand_computed_with_kernel_and_batch():
    # 2 * 3*3 * 16 * (10*10) * 32 * batch 2 = 1,843,200
    assert conv2d_flops(16, 32, h=10, w=10, k_h=3, batch=2) == 2 * 9 * 16 * 100 * 32 * 2


def test_conv_stride_and_padding_use_output_size():
    # 32x32 input, 3x3 kernel, stride 2, padding 1 -> 16x16 output
    assert conv2d_output_size(32, 3, stride=2, padding=1) == 16
    assert conv2d_flops(8, 4, h=32, w=32, k_h=3, stride=2, padding=1) == 2 * 9 * 8 * 16 * 16 * 4
    # valid padding shrinks the output: 10 - 5 + 1 = 6
    assert conv2d_flops(1, 1, h=10, w=10, k_h=5, padding=0) == 2 * 25 * 36


def test_rectangular_kernel():
    assert conv2d_flops(2, 3, h=5, w=7, k_h=1, k_w=3) == 2 * 3 * 2 * 35 * 3


def test_gemm_and_mac_conversion():
    assert gemm_flops(2, 3, 4) == 48
    assert flops_from_macs(24) == 48
    assert macs_from_flops(48) == 24


@pytest.mark.parametrize(
    "call",
    [
        lambda: conv2d_flops(0, 1, h=1, w=1, k_h=1),
        lambda: conv2d_flops(1, 1, h=2, w=2, k_h=5, padding=0),
        lambda: conv2d_flops(1, 1, h=4, w=4, k_h=3, stride=2, padding="same"),
        lambda: dense_flops(10, -1),
    ],
)
def test_invalid_shapes_are_rejected(call):
    with pytest.raises(ValueError):
        call()
