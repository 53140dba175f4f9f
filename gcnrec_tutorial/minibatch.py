r"""Mini-batch training on sampled subgraphs (chapter 7).

Full-batch LightGCN propagates over the WHOLE graph at every step, although
a BPR batch only needs the final embeddings of its seed nodes: its users,
positive items and negative items. With ``L`` layers those depend only on
the seeds' ``L``-hop neighbourhood. Neighbour sampling (GraphSAGE; PyG's
``NeighborLoader`` / ``LinkNeighborLoader``) keeps at most ``f_h`` random
neighbours of each node reached at hop ``h``:

1. frontier ``F_0`` = the seeds;
2. for ``h = 1..L``: every node of ``F_{h-1}`` keeps ``min(f_h, d_v)`` of its
   ``d_v`` neighbours, drawn uniformly without replacement (all of them for
   ``f_h = -1``); the neighbours not reached before form ``F_h``;
3. the sampled edges, in both directions, are the step's graph.

The step's graph is an ordinary :class:`~gcnrec_tutorial.graph.BipartiteGraph`
over all nodes (what :func:`~gcnrec_tutorial.graph.from_edges` builds;
:func:`symmetric_graph` does it in one sort), so every model runs on it
unchanged (the :class:`~gcnrec_tutorial.models.Recommender` contract). Its
adjacency is normalised by the degrees *in the sample*,
``A_s = D_s^{-1/2} A_s D_s^{-1/2}``, as LightGCN's ``LGConv`` does on a
``LinkNeighborLoader`` batch: a node that keeps ``k`` of its ``d`` neighbours
averages them with weights ``1/sqrt(k k_u)`` instead of ``1/sqrt(d d_u)``,
which keeps the scale of the messages but not the full graph's weighting of
high- and low-degree neighbours (chapter 7 measures what that costs). ``A_s``
is symmetric, so the models' one-product backward stays exact, and when every
neighbour is kept (``f_h = -1``) and the ``L`` hops reach the whole graph,
the step is exactly the full-batch step.

:func:`~gcnrec_tutorial.train.train_epoch` uses this module when
``TrainConfig.fanouts`` is set, through :func:`step_sampler`. Two samplers
draw the same kind of sample: ``"torch"`` (the default,
:func:`sample_edges`) is plain PyTorch over the graph's CSR adjacency and runs
everywhere; ``"pyg"`` (:class:`PygSampler`) is PyG's ``NeighborSampler``, the
sampler behind ``NeighborLoader`` and ``LinkNeighborLoader``, which needs the
compiled ``pyg-lib`` or ``torch-sparse`` package (neither publishes wheels for
every torch release). The tests check that the two agree.
Node ids keep the global numbering (users ``0..U-1``, items ``U..U+I-1``):
the embedding table and the optimizer are those of full-batch training, and
what shrinks is the propagation (``O(|E_s| d)`` instead of ``O(|E| d)``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from .errors import ConfigError
from .graph import BipartiteGraph


def check_fanouts(fanouts: Sequence[int]) -> tuple[int, ...]:
    """Return ``fanouts`` as a tuple after checking each is ``-1`` (all) or ``>= 1``."""
    fanouts = tuple(int(f) for f in fanouts)
    if not fanouts or any(f == 0 or f < -1 for f in fanouts):
        raise ConfigError(f"fanouts must be >= 1 or -1 (all neighbours), one per hop: {fanouts}")
    return fanouts


def _pick(degree: Tensor, fanout: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """For each node (its ``degree``), choose ``min(fanout, d)`` of its ``d`` neighbour slots.

    Returns:
        ``(owner, slot)``: ``(n,)`` position of the node in ``degree`` and ``(n,)``
        index ``0..d-1`` of the chosen neighbour in its adjacency row.
    """
    owner = torch.repeat_interleave(torch.arange(len(degree)), degree)  # (sum d,)
    start = torch.repeat_interleave(degree.cumsum(0) - degree, degree)
    slot = torch.arange(len(owner)) - start  # 0..d-1 within each row
    if fanout == -1 or len(degree) == 0 or int(degree.max()) <= fanout:
        return owner, slot
    # A random key per slot; sorting by (owner, key) shuffles each row, then keep the first f.
    keys = owner.double() + torch.rand(len(owner), generator=generator, dtype=torch.float64)
    order = torch.argsort(keys)
    keep = (torch.arange(len(owner)) - start) < fanout  # rank within the (shuffled) row
    return owner[order][keep], slot[order][keep]


def sample_edges(
    indptr: Tensor,
    indices: Tensor,
    seeds: Tensor,
    fanouts: Sequence[int],
    *,
    generator: torch.Generator,
) -> Tensor:
    """Sample the ``len(fanouts)``-hop neighbourhood of ``seeds`` (see the module docstring).

    Args:
        indptr: ``(N + 1,)`` CSR row pointer of the graph (CPU).
        indices: ``(E,)`` CSR column indices (neighbours of each row, CPU).
        seeds: node ids (any order, repeats allowed).
        fanouts: neighbours kept per node at each hop, ``-1`` = all.
        generator: CPU generator (the choice of neighbours).

    Returns:
        ``(2, E_s)`` directed edges ``node -> sampled neighbour`` (not symmetrised).
    """
    frontier = torch.unique(seeds.cpu())
    reached = torch.zeros(len(indptr) - 1, dtype=torch.bool)
    reached[frontier] = True
    edges = []
    for fanout in check_fanouts(fanouts):
        start = indptr[frontier]
        owner, slot = _pick(indptr[frontier + 1] - start, fanout, generator)
        neighbours = indices[start[owner] + slot]
        edges.append(torch.stack([frontier[owner], neighbours]))
        frontier = torch.unique(neighbours[~reached[neighbours]])
        reached[frontier] = True
    return torch.cat(edges, dim=1)


def sampled_graph(
    graph: BipartiteGraph,
    seeds: Tensor,
    fanouts: Sequence[int],
    *,
    generator: torch.Generator,
    csr: tuple[Tensor, Tensor] | None = None,
) -> BipartiteGraph:
    """The graph of one training step: the sampled neighbourhood of ``seeds``, normalised.

    Args:
        graph: the full TRAINING graph (any device; the result is on the same one).
        seeds: ``(S,)`` node ids (users ``u``, items ``U + i``).
        fanouts: neighbours kept per node and hop, ``-1`` = all (one entry per layer).
        generator: CPU generator.
        csr: ``(indptr, indices)`` of ``graph.adj`` on the CPU, to skip the copy
            from an accelerator at every step.

    Returns:
        A :class:`BipartiteGraph` over all ``U + I`` nodes whose edges are the
        sample's (both directions) and whose adjacency is ``D_s^-1/2 A_s D_s^-1/2``.
    """
    if csr is None:
        csr = graph_csr(graph)
    edges = sample_edges(*csr, seeds, fanouts, generator=generator)
    return symmetric_graph(edges, graph.num_users, graph.num_items).to(graph.adj.device)


def symmetric_graph(edges: Tensor, num_users: int, num_items: int) -> BipartiteGraph:
    """:func:`~gcnrec_tutorial.graph.from_edges` of ``edges`` in both directions, in one sort.

    The edge set is symmetric by construction (each edge is added both ways), so
    the general builder's symmetry check and second sort are skipped; the tests
    check that the result equals ``from_edges``. Self-loops cannot occur (users
    and items are disjoint).

    Shapes:
        ``edges`` ``(2, E_s)`` directed -> a graph of ``<= 2 E_s`` edges over ``U + I`` nodes.
    """
    n = num_users + num_items
    keys = torch.unique(torch.cat([edges[0] * n + edges[1], edges[1] * n + edges[0]]))  # sorted
    row, col = keys // n, keys % n
    counts = torch.bincount(row, minlength=n)
    degree = counts.float()
    inv_sqrt = degree.pow(-0.5)
    inv_sqrt[counts == 0] = 0.0
    indptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    with warnings.catch_warnings():  # "sparse CSR support is in beta": a notice, not a problem
        warnings.simplefilter("ignore", UserWarning)
        adj = torch.sparse_csr_tensor(indptr, col, inv_sqrt[row] * inv_sqrt[col], (n, n))
    return BipartiteGraph(num_users, num_items, torch.stack([row, col]), adj, degree)


def graph_csr(graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
    """``(indptr, indices)`` of the graph's adjacency on the CPU (its neighbour lists)."""
    return graph.adj.crow_indices().cpu(), graph.adj.col_indices().cpu()


def batch_seeds(users: Tensor, pos: Tensor, neg: Tensor, num_users: int) -> Tensor:
    """The node ids whose embeddings a BPR batch reads: its users, positives and negatives."""
    return torch.cat([users, pos + num_users, neg + num_users]).cpu()


SAMPLERS = ("torch", "pyg")
"""The neighbour samplers: this module's plain-PyTorch one and PyG's."""


def pyg_available() -> bool:
    """Whether PyG's compiled neighbour sampler (``pyg-lib`` or ``torch-sparse``) is installed."""
    import torch_geometric.typing as pyg_typing

    return bool(pyg_typing.WITH_PYG_LIB or pyg_typing.WITH_TORCH_SPARSE)


def require_pyg() -> None:
    """Raise one clear :class:`ConfigError` unless :func:`pyg_available`."""
    if not pyg_available():
        raise ConfigError(
            "sampler 'pyg' needs PyG's compiled sampler: install pyg-lib (wheels for your "
            "torch at https://data.pyg.org/whl) or torch-sparse, or use sampler 'torch'"
        )


class PygSampler:
    """PyG's ``NeighborSampler`` over one graph, drawing what :func:`sample_edges` draws.

    Built once per graph (PyG sorts the edges into its CSC layout), then called
    once per step. Its random choices come from torch's default generator;
    :func:`step_sampler` seeds it from the run's generator at every step.
    """

    def __init__(self, indptr: Tensor, indices: Tensor, fanouts: Sequence[int]) -> None:
        require_pyg()
        from torch_geometric.data import Data
        from torch_geometric.sampler import NeighborSampler

        n = len(indptr) - 1
        node = torch.repeat_interleave(torch.arange(n), indptr[1:] - indptr[:-1])  # (E,)
        data = Data(edge_index=torch.stack([indices, node]), num_nodes=n)  # neighbour -> node
        with warnings.catch_warnings():  # "without pyg-lib ... deprecated": torch-sparse's path
            warnings.filterwarnings("ignore", message=".*without a 'pyg-lib'", category=UserWarning)
            self.sampler = NeighborSampler(data, num_neighbors=list(check_fanouts(fanouts)))

    def __call__(self, seeds: Tensor) -> Tensor:
        """``(2, E_s)`` directed edges ``node -> sampled neighbour``, as :func:`sample_edges`."""
        from torch_geometric.sampler import NodeSamplerInput

        frontier = torch.unique(seeds.cpu())
        out = self.sampler.sample_from_nodes(NodeSamplerInput(input_id=None, node=frontier))
        # PyG's edges point from the sampled neighbour (row) to the node it was drawn for (col)
        return torch.stack([out.node[out.col], out.node[out.row]])


def step_sampler(
    graph: BipartiteGraph, fanouts: Sequence[int], sampler: str, *, generator: torch.Generator
) -> Callable[[Tensor], BipartiteGraph]:
    """``draw(seeds) -> graph of one step`` with the ``"torch"`` or ``"pyg"`` sampler.

    Both return what :func:`sampled_graph` returns (the sample's edges both ways,
    normalised by the sampled degrees); only who draws the neighbours differs.
    """
    if sampler not in SAMPLERS:
        raise ConfigError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    csr = graph_csr(graph)
    if sampler == "torch":
        return lambda seeds: sampled_graph(graph, seeds, fanouts, generator=generator, csr=csr)
    pyg = PygSampler(*csr, fanouts)

    def draw(seeds: Tensor) -> BipartiteGraph:
        # PyG draws from torch's default generator: seed it from the step's generator, in
        # a fork, so the run is reproducible from its seed and the global state untouched
        step_seed = int(torch.randint(2**62, (1,), generator=generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(step_seed)
            edges = pyg(seeds)
        return symmetric_graph(edges, graph.num_users, graph.num_items).to(graph.adj.device)

    return draw
