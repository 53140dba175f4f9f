"""Tests of the text-initialised LightGCN (chapter 5): the PCA against numpy, the scale."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gcnrec_tutorial.graph import build_graph
from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.models import LightGCN
from gcnrec_tutorial.text_init import pca_projection, text_init_embeddings, text_init_lightgcn

U, I, T, D = 5, 7, 12, 4  # noqa: E741


def text(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(U, T, generator=g), torch.randn(I, T, generator=g) + 0.5


def test_pca_projection_equals_numpy_eigendecomposition() -> None:
    x = torch.cat(text()).double()
    xc = (x - x.mean(0)).numpy()
    values, vectors = np.linalg.eigh(xc.T @ xc / len(xc))  # ascending
    top = vectors[:, ::-1][:, :D]  # (T, D), largest variance first
    expected = xc @ top
    z = pca_projection(x, D).double().numpy()
    signs = np.sign((z * expected).sum(0))  # eigenvectors have arbitrary signs
    np.testing.assert_allclose(z, expected * signs, atol=1e-5)
    np.testing.assert_allclose(z.var(0), values[::-1][:D], rtol=1e-5)  # variance S_k^2 / N
    # our sign convention: each component's largest loading is positive
    pos = pca_projection(x, D).double().T @ torch.tensor(xc)  # (D, T) ∝ components
    assert (pos.gather(1, pos.abs().argmax(1, keepdim=True)) > 0).all()


def test_initial_embeddings_are_the_pca_at_xavier_scale() -> None:
    user_text, item_text = text()
    g = torch.Generator().manual_seed(0)
    e0 = text_init_embeddings(user_text, item_text, embedding_dim=D, generator=g)
    z = pca_projection(torch.cat([user_text, item_text]), D)
    xavier_std = (2 / (U + I + D)) ** 0.5
    torch.testing.assert_close(e0, z * xavier_std / z.std())
    assert e0.std().item() == pytest.approx(xavier_std, rel=1e-5)


def test_fewer_components_than_dimensions_are_padded_with_xavier_draws() -> None:
    user_text, item_text = text()
    g = torch.Generator().manual_seed(0)
    e0 = text_init_embeddings(user_text[:, :2], item_text[:, :2], embedding_dim=D, generator=g)
    assert e0.shape == (U + I, D)
    bound = 3**0.5 * (2 / (U + I + D)) ** 0.5
    assert e0[:, 2:].abs().max() <= bound and e0[:, 2:].std() > 0


def test_the_model_is_a_lightgcn_starting_from_the_pca() -> None:
    user_text, item_text = text()
    model = text_init_lightgcn(user_text, item_text, embedding_dim=D, num_layers=2, seed=0)
    assert type(model) is LightGCN  # trained and saved exactly as LightGCN
    g = torch.Generator().manual_seed(0)
    expected = text_init_embeddings(user_text, item_text, embedding_dim=D, generator=g)
    torch.testing.assert_close(model.embedding.weight.detach(), expected)
    pairs = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]
    graph = build_graph(Interactions.from_tensors(*torch.tensor(pairs).T, num_users=U, num_items=I))
    plain = LightGCN(U, I, embedding_dim=D, num_layers=2)
    plain.load_state_dict(model.state_dict())
    for ours, reference in zip(model(graph), plain(graph), strict=True):
        torch.testing.assert_close(ours, reference)
