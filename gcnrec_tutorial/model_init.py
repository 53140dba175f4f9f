"""Seeded initial weights and the size checks every model shares (chapter 4).

The graph encoders (:mod:`gcnrec_tutorial.models`) and the fusion and rating
models of chapters 5 and 6 build their weights with these, so the same seed
gives the same model, and a degenerate size is refused before any weight is
drawn. Importable from :mod:`gcnrec_tutorial.models` too.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .errors import ConfigError


def check_dims(*, embedding_dim: int, num_layers: int = 0) -> None:
    """Refuse sizes that would build a degenerate model (every score tied, or no layers)."""
    if embedding_dim < 1:
        raise ConfigError(f"embedding_dim must be >= 1, got {embedding_dim}")
    if num_layers < 0:
        raise ConfigError(f"num_layers must be >= 0, got {num_layers}")


def init_linear(module: nn.Module, *, generator: torch.Generator) -> None:
    """Seeded Xavier-uniform weights and zero biases for every ``nn.Linear`` in ``module``."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight, generator=generator)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


def init_embedding(weight: Tensor, *, init: str, generator: torch.Generator) -> None:
    """Initialise an embedding table in place: ``"normal"`` (std 0.1) or ``"xavier"`` (uniform).

    ``"xavier"`` is the reference LightGCN's (and PyG's) choice; ``"normal"`` with
    std 0.1 is NGCF's. Seeded by ``generator`` so the same seed gives the same model.
    """
    if init == "normal":
        nn.init.normal_(weight, std=0.1, generator=generator)
    elif init == "xavier":
        nn.init.xavier_uniform_(weight, generator=generator)
    else:
        raise ValueError(f"init must be 'normal' or 'xavier', got {init!r}")
