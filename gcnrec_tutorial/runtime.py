"""Device choice and seeding, shared by every chapter."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from .errors import ConfigError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Return the device to use.

    ``"auto"`` means ``$GCNREC_DEVICE`` if set, else CUDA when available, else CPU.
    An explicit ``"cuda"`` on a machine without CUDA is an error, not a silent fallback.
    """
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        device = os.environ.get("GCNREC_DEVICE", "auto")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device={device!r} was requested but CUDA is not available; use 'auto' or 'cpu'"
        )
    return resolved


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a CPU ``torch.Generator`` seeded too."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds legacy np.random users too
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
