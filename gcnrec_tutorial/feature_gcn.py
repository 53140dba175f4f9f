r"""The book's W/H GCN on features instead of free IDs (chapter 5).

Chapter 4's :class:`~gcnrec_tutorial.gcn.GCN` starts from ID embeddings, so
an item without a training edge has only its random initial row. Here layer 0
is a learned projection of what is known about a node before any interaction:

.. math::
    h^{(0)}_u = P_U \, z_u, \quad z_u = [t_u ; f_u], \qquad
    h^{(0)}_i = P_I \, z_i, \quad z_i = [t_i ; g_i],

with ``t`` the frozen BERT-family text embedding (chapter 3, training data
only), ``f_u`` the user's demographic features and ``g_i`` the item's genres
and year (chapter 1's :mod:`gcnrec_tutorial.features`). Then, as in chapter 4,

.. math::
    h^{(l+1)} = \mathrm{LeakyReLU}(W_l h^{(l)} + H_l \hat A h^{(l)}), \qquad
    e = \frac{1}{L + 1} \sum_{l=0}^{L} h^{(l)}, \qquad s(u, i) = e_u \cdot e_i .

``feature-gcn`` has no ID embeddings, so a cold item is scored from its
features; ``feature-gcn-id`` adds ``e^{id}`` to ``h^{(0)}`` (warm items can then
depart from what their features say).

Scaling: MiniLM coordinates are ~0.05, one-hot flags are 0/1 and ``year_z``
is a z-score, so :func:`standardize_blocks` z-scores every column and divides
each block (text, features) by the square root of its width: each block
then has unit mean squared norm, and 384 text columns do not drown 20 genre flags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from . import features
from .data import GENRES
from .graph import BipartiteGraph
from .models import GCNLayer, Recommender, check_dims, init_embedding, init_linear

if TYPE_CHECKING:
    from .dataset import Dataset
    from .registry import RunConfig
    from .splits import Split


def standardize_blocks(*blocks: Tensor) -> Tensor:
    r"""Z-score each column, scale each block to unit mean squared row norm, concatenate.

    .. math::
        \tilde x_{nk} = \frac{x_{nk} - \mu_k}{\sigma_k \sqrt{K_b}}
        \quad \text{for column } k \text{ of block } b \text{ (width } K_b),

    so ``mean_n ||x̃_n^{(b)}||^2 = 1`` for every block. A constant column (``sigma = 0``)
    becomes 0. The statistics are over the rows given (all users, or all items),
    which is metadata and training-only text: no held-out interaction enters.

    Args:
        blocks: ``(N, K_b)`` tensors with the same ``N``.

    Returns:
        ``(N, sum_b K_b)`` float32.
    """
    parts = []
    for block in blocks:
        x = block.detach().float()
        std = x.std(dim=0, unbiased=False)
        z = (x - x.mean(dim=0)) / std.clamp_min(1e-8) * (std > 1e-8)  # constant column -> 0
        parts.append(z / max(x.shape[1], 1) ** 0.5)
    return torch.cat(parts, dim=1)


class FeatureGCN(Recommender):
    r"""W/H GCN whose layer 0 projects fixed node features (optionally plus ID embeddings).

    Args:
        user_inputs: ``(U, K_U)`` fixed user inputs ``z_u`` (already standardised).
        item_inputs: ``(I, K_I)`` fixed item inputs ``z_i``.
        embedding_dim: ``d``.
        num_layers: GCN layers ``L`` (chapter 4's default is 2).
        id_embeddings: add learned ``(U + I, d)`` ID rows to ``h^{(0)}``.
        init: ID-embedding initialisation (``"xavier"`` or ``"normal"``).
        negative_slope: of the LeakyReLU.
        seed: seeds every initial weight.

    Shapes:
        forward: ``graph.adj`` ``(U + I, U + I)`` -> ``(U, d)``, ``(I, d)``.
    """

    user_inputs: Tensor
    item_inputs: Tensor

    def __init__(
        self,
        user_inputs: Tensor,
        item_inputs: Tensor,
        *,
        embedding_dim: int = 64,
        num_layers: int = 2,
        id_embeddings: bool = False,
        init: str = "xavier",
        negative_slope: float = 0.2,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_dims(embedding_dim=embedding_dim, num_layers=num_layers)
        self.num_users = user_inputs.shape[0]
        self.register_buffer("user_inputs", user_inputs.detach().float())
        self.register_buffer("item_inputs", item_inputs.detach().float())
        self.user_proj = nn.Linear(user_inputs.shape[1], embedding_dim, bias=False)  # P_U
        self.item_proj = nn.Linear(item_inputs.shape[1], embedding_dim, bias=False)  # P_I
        self.layers = nn.ModuleList(
            GCNLayer(embedding_dim, embedding_dim) for _ in range(num_layers)
        )
        self.negative_slope = negative_slope
        generator = torch.Generator().manual_seed(seed)
        init_linear(self, generator=generator)
        self.embedding: nn.Embedding | None = None
        if id_embeddings:
            num_nodes = self.num_users + item_inputs.shape[0]
            self.embedding = nn.Embedding(num_nodes, embedding_dim)
            init_embedding(self.embedding.weight, init=init, generator=generator)

    def projected(self) -> Tensor:
        """``(U + I, d)``: ``P_U z_u`` for the users, then ``P_I z_i`` for the items."""
        return torch.cat([self.user_proj(self.user_inputs), self.item_proj(self.item_inputs)])

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        h = self.projected()  # (N, d), layer 0
        if self.embedding is not None:
            h = h + self.embedding.weight
        out = h
        for layer in self.layers:
            h = nn.functional.leaky_relu(layer(h, graph.adj), self.negative_slope)  # (N, d)
            out = out + h
        out = out / (len(self.layers) + 1)
        return out[: self.num_users], out[self.num_users :]

    def layer0(self, users: Tensor, items: Tensor) -> list[Tensor]:
        """The batch's projected rows ``P z`` and, if any, its ID rows (each penalised)."""
        # project all U + I rows once and gather: cheaper than projecting 3B >> U + I rows
        projected = self.projected()  # (U + I, d)
        rows = [projected[users], projected[items + self.num_users]]  # (B, d), (2B, d)
        if self.embedding is not None:
            rows += [self.embedding(users), self.embedding(items + self.num_users)]
        return rows


def node_inputs(ds: Dataset, user_text: Tensor, item_text: Tensor) -> tuple[Tensor, Tensor]:
    """``(U, T + F_U)`` and ``(I, T + F_I)`` standardised inputs ``[text ; features]``.

    The features are chapter 1's demographics and genres + year where the dataset
    has those columns (MovieLens-100K); otherwise the text alone.
    """
    user_blocks, item_blocks = [user_text.float().cpu()], [item_text.float().cpu()]
    if {"age", "gender", "occupation"} <= set(ds.users.columns):
        user_blocks.append(features.user_features(ds.users)[0])
    if {"year", *GENRES} <= set(ds.items.columns):
        item_blocks.append(features.item_features(ds.items)[0])
    return standardize_blocks(*user_blocks), standardize_blocks(*item_blocks)


def build(config: RunConfig, ds: Dataset, split: Split, *, id_embeddings: bool) -> FeatureGCN:
    """``MODELS["feature-gcn"]`` / ``["feature-gcn-id"]``: text from TRAINING data only."""
    from .registry import _text  # the registry imports this module's builders lazily

    user_inputs, item_inputs = node_inputs(ds, *_text(config, ds, split))
    return FeatureGCN(
        user_inputs,
        item_inputs,
        embedding_dim=config.embedding_dim,
        num_layers=config.layers(2),
        id_embeddings=id_embeddings,
        init=config.init_or("xavier"),
        seed=config.seed,
    )
