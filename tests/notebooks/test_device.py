"""On the GPU workflow (GCNREC_EXPECT_DEVICE=cuda) every chapter that trains must have used CUDA."""

from __future__ import annotations

import os

import pytest

from gcnrec_tutorial.notebook import read_records
from tests.notebooks.conftest import OUTPUT_DIR


def test_chapters_ran_on_expected_device() -> None:
    expected = os.environ.get("GCNREC_EXPECT_DEVICE")
    if not expected:
        pytest.skip("set GCNREC_EXPECT_DEVICE (the GPU workflow does) to check the device")
    devices = {
        path.stem: read_records(path).get("device") for path in sorted(OUTPUT_DIR.glob("*.ipynb"))
    }
    used = {name: d for name, d in devices.items() if d is not None}
    assert used, f"no chapter in {OUTPUT_DIR} recorded its device"
    wrong = {name: d for name, d in used.items() if not str(d).startswith(expected)}
    assert not wrong, f"chapters not on {expected}: {wrong}"
