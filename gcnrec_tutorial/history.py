"""What a training loop returns: per-epoch rows, the kept epoch, divergence checks (chapter 4).

:class:`History` is shared by chapter 4's ranking loop
(:func:`gcnrec_tutorial.train.fit`) and chapter 6's rating loop
(:func:`gcnrec_tutorial.rating.fit_rating`), so both count epochs, patience and
the kept epoch the same way. Importable from :mod:`gcnrec_tutorial.train` too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .errors import TrainingError


@dataclass
class History:
    """What a training loop returns: one row per epoch, and the epoch it kept.

    Both :func:`fit` (ranking) and :func:`gcnrec_tutorial.rating.fit_rating` use
    it with the same conventions: epochs are 1-based, ``patience`` counts
    validations, and ``best_epoch`` is the epoch whose weights the model holds
    on return (``0`` = the initial weights). ``pd.DataFrame(history.rows)``
    gives the table: ``epoch``, ``loss``, ``seconds`` and, on validation
    epochs, the validation metrics.
    """

    metric: str = "valid_ndcg@10"  # the model-selection metric
    higher_is_better: bool = True
    rows: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float = float("nan")  # the metric at best_epoch (NaN: never validated)
    waited: int = 0  # validations since the last improvement

    def log_epoch(
        self, epoch: int, loss: float, seconds: float, *, model: torch.nn.Module | None = None
    ) -> dict[str, float]:
        """Append the epoch's row; refuse a non-finite loss or ``model`` weight (divergence)."""
        weights_ok = model is None or all(bool(p.isfinite().all()) for p in model.parameters())
        if not math.isfinite(loss) or not weights_ok:
            what = f"the loss is {loss}" if not math.isfinite(loss) else "a weight is not finite"
            raise TrainingError(
                f"training diverged at epoch {epoch}: {what}; "
                "lower the learning rate or raise the regularisation"
            )
        row = {"epoch": float(epoch), "loss": loss, "seconds": seconds}
        self.rows.append(row)
        return row

    def validate(self, metrics: dict[str, float]) -> bool:
        """Record the last epoch's validation ``metrics``; True if it is the best so far."""
        row = self.rows[-1]
        row.update(metrics)
        score = metrics[self.metric]
        if not math.isfinite(score):
            raise TrainingError(f"{self.metric} is {score} at epoch {int(row['epoch'])}")
        better = score > self.best_score if self.higher_is_better else score < self.best_score
        if self.best_epoch == 0 or better:
            self.best_epoch, self.best_score, self.waited = int(row["epoch"]), score, 0
            return True
        self.waited += 1
        return False

    @property
    def seconds_per_epoch(self) -> float:
        return sum(r["seconds"] for r in self.rows) / max(len(self.rows), 1)

    @property
    def epochs(self) -> int:
        return len(self.rows)
