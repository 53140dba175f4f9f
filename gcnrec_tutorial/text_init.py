r"""Text-initialised LightGCN: language only sets the starting point (chapter 5).

The simplest way to use frozen text embeddings ``t`` (chapter 3, TRAINING data
only) in chapter 4's LightGCN: start the ID embeddings from them, then train
exactly as LightGCN (BPR, L2 on the batch's layer-0 rows). Text decides where
the optimisation starts, not what the model can represent; a cold item has no
edge, so only negative sampling and the L2 penalty move its text-derived row.
``text-init`` in :data:`~gcnrec_tutorial.model_registry.MODELS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from .models import LightGCN

if TYPE_CHECKING:
    from .dataset import Dataset
    from .registry import RunConfig
    from .splits import Split


def pca_projection(x: Tensor, dim: int) -> Tensor:
    r"""Project the rows of ``x`` on its top ``dim`` principal components.

    .. math::
        X_c = X - \mathbf 1 \mu^\top = U S V^\top, \qquad Z = X_c V_{:, 1..q},
        \quad q = \min(dim, N, T).

    Column ``k`` of ``Z`` has variance ``S_k^2 / N`` (decreasing in ``k``). Signs
    are fixed so that each component's largest loading is positive (SVD signs are
    otherwise arbitrary).

    Args:
        x: ``(N, T)``.
        dim: the number of components wanted.

    Returns:
        ``(N, q)`` float32.
    """
    xc = x.double() - x.double().mean(dim=0)  # (N, T)
    _, _, vh = torch.linalg.svd(xc, full_matrices=False)  # vh: (min(N, T), T)
    components = vh[: min(dim, vh.shape[0])]  # (q, T)
    largest = components.abs().argmax(dim=1, keepdim=True)
    components = components * components.gather(1, largest).sign()
    return (xc @ components.T).float()  # (N, q)


def text_init_embeddings(
    user_text: Tensor, item_text: Tensor, *, embedding_dim: int, generator: torch.Generator
) -> Tensor:
    r"""``(U + I, d)`` initial ID embeddings: a joint PCA of the text, at Xavier's scale.

    .. math::
        E^{(0)} = \frac{\sigma_{xavier}}{\operatorname{std}(Z)} \, Z, \qquad
        Z = \operatorname{PCA}_d\!\left(\begin{bmatrix} T_U \\ T_I \end{bmatrix}\right),
        \qquad \sigma_{xavier} = \sqrt{2 / (U + I + d)}.

    Users and items share one PCA, so ``e_u . e_i`` starts as (a low-rank view of)
    their text similarity; one global rescaling keeps the PCA's ordering of the
    columns and gives the table the standard deviation of the default Xavier
    initialisation (so lr and L2 keep their meaning). If the text has fewer than
    ``d`` components, the remaining columns are Xavier draws.
    """
    text = torch.cat([user_text, item_text]).float().cpu()  # (N, T)
    num_nodes = text.shape[0]
    target_std = (2.0 / (num_nodes + embedding_dim)) ** 0.5
    z = pca_projection(text, embedding_dim)  # (N, q)
    z = z * (target_std / z.std().clamp_min(1e-12))
    if z.shape[1] < embedding_dim:  # pad with Xavier-uniform draws (bound = sqrt(3) std)
        bound = 3**0.5 * target_std
        rest = torch.rand(num_nodes, embedding_dim - z.shape[1], generator=generator)
        z = torch.cat([z, (2 * rest - 1) * bound], dim=1)
    return z


def text_init_lightgcn(
    user_text: Tensor,
    item_text: Tensor,
    *,
    embedding_dim: int = 64,
    num_layers: int = 3,
    seed: int = 0,
) -> LightGCN:
    """A :class:`~gcnrec_tutorial.models.LightGCN` starting from :func:`text_init_embeddings`."""
    model = LightGCN(
        user_text.shape[0], item_text.shape[0], embedding_dim=embedding_dim,
        num_layers=num_layers, seed=seed,
    )  # fmt: skip
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model.embedding.weight.copy_(
            text_init_embeddings(
                user_text, item_text, embedding_dim=embedding_dim, generator=generator
            )
        )
    return model


def build(config: RunConfig, ds: Dataset, split: Split) -> LightGCN:
    """``MODELS["text-init"]``."""
    from .registry import _text  # lazy: the registry imports this module

    return text_init_lightgcn(
        *_text(config, ds, split), embedding_dim=config.embedding_dim,
        num_layers=config.layers(3), seed=config.seed,
    )  # fmt: skip
