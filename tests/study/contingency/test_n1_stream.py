"""The streamed N-1 block size: bounded memory, and the same table whatever the block."""

from __future__ import annotations

import numpy as np
import pandas as pd

from blackout.study.contingency.n1 import STREAM_BLOCK_BYTES, screen_n1, stream_block
from blackout.study.fastdc.model import DCModel


def test_stream_block_keeps_the_angle_block_within_its_memory() -> None:
    for n in (118, 9_240, 70_000):
        assert stream_block(n) == 2048  # the widest block while it fits
    big = 200_000
    assert 512 <= stream_block(big) < 2048
    assert 8 * (big + 1) * stream_block(big) <= STREAM_BLOCK_BYTES
    assert stream_block(10 ** 9) == 512  # never below the floor


def test_default_block_equals_many_small_blocks(case2869: DCModel) -> None:
    one = screen_n1(case2869, cascade=False).table  # one or few wide blocks
    many = screen_n1(case2869, cascade=False, block=97).table  # dozens of blocks
    num = one.select_dtypes(include=[np.number]).columns
    pd.testing.assert_frame_equal(one[num], many[num], rtol=1e-9, atol=1e-9)
    assert (one["worst_branch"] == many["worst_branch"]).all()
