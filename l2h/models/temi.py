"""TEMI (Adaloglou et al., BMVC 2023): clustering heads trained on frozen embeddings.

TEMI trains ``H`` clustering heads on top of frozen embeddings with a self-distillation loss.
Each head is ``Linear(d, 512) - GELU - Linear(512, 256) - L2-normalise -
weight_norm(Linear(256, K, bias=False))``. A teacher copy of the heads follows the student as
an exponential moving average (EMA, momentum 0.996). The positive partner ``x'`` of a point
``x`` is drawn uniformly from its ``k=50`` nearest neighbours (cosine similarity, self
excluded), mined once before training by chunked matrix products (never an N x N matrix).

For head ``h``, with ``q_s = softmax(z_s / tau_s)`` (student), ``q_t = softmax(z_t / tau_t)``
(teacher), ``tau_s = tau_t = 0.1`` and a teacher cluster prior ``q~`` (EMA, momentum 0.9,
of the batch-mean teacher probabilities of both views, started uniform), the loss is

.. math:: L_h = -\\tfrac12\\, E\\big[w(x,x')\\,(\\mathrm{pmi}_\\beta(q_s(x'), q_t(x))
          + \\mathrm{pmi}_\\beta(q_s(x), q_t(x')))\\big],\\quad
          \\mathrm{pmi}_\\beta(p, q) = \\log \\sum_k (p_k q_k)^\\beta / \\tilde q_k,

with ``beta = 0.6`` and the instance weight ``w(x, x') = (1/H) sum_h sum_k q_t^h(k|x)
q_t^h(k|x')`` (no gradient, shared by the heads). The total loss is the mean over heads.

Defaults follow the official README's CIFAR command: 16 heads, batch 1024, 100 epochs, AdamW
with base learning rate 1e-4 and ``min_lr = 1e-4``, both *scaled by batch_size / 256* as the
official code does (so a constant 4e-4 after warm-up at batch 1024), linear warm-up over 20
epochs then cosine decay to the scaled ``min_lr``, weight decay 1e-4 on weights and weight-norm
gains (biases excluded; the official rule), teacher momentum 0.996 constant (``final_momentum``
above ``momentum`` gives the official cosine schedule), last layer frozen during the first
epoch (``freeze_last_layer=1``), embeddings used raw (``embed_norm=True`` standardises each
dimension with the training mean and standard deviation). Several spaces are concatenated; for
the neighbour search each space is L2-normalised first, so the cosine similarity is the mean of
the per-space ones.

The head kept is the one with the lowest average loss in the final epoch (never chosen with
labels). Logits given to L2H: the kept head's *teacher* output divided by the teacher
temperature, ``z_t(x) / tau_t``, whose softmax is the distribution TEMI trains with (the
official evaluation takes the argmax of the teacher's raw output, which is the same).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from l2h.models._base import (
    FlatModel,
    TrainingLog,
    as_spaces,
    check_finite,
    check_loss,
    check_n_clusters,
    check_positive,
    load_torch,
    output_array,
    resolve_device,
    row_blocks,
    rows_to_tensor,
    save_torch,
    seed_torch,
)

__all__ = ["TEMI", "mine_neighbours"]

_FORMAT = "temi"
_VERSION = 1
_HEAD_KEYS = ("w1", "b1", "w2", "b2", "v", "g")


# --------------------------------------------------------------------------- neighbours


def _normalised(spaces: list[np.ndarray], start: int, stop: int, device: str) -> Any:
    """Rows ``start:stop`` of the spaces, each L2-normalised, concatenated, as a tensor."""
    import torch

    blocks = rows_to_tensor(spaces, slice(start, stop), device)
    return torch.cat([torch.nn.functional.normalize(b, dim=1) for b in blocks], dim=1)


def mine_neighbours(
    spaces: Sequence[np.ndarray] | np.ndarray,
    k: int,
    device: str = "cpu",
    chunk: int = 4096,
) -> np.ndarray:
    """Indices of every point's ``k`` nearest neighbours by cosine similarity (self excluded).

    Self is excluded for every N (the official chunked search above 80,000 points keeps it for
    all but its first 64 rows; see docs/models.md).

    Parameters
    ----------
    spaces : list of array-like of shape (N, d_s)
        Each space is L2-normalised per row and the spaces are concatenated.
    k : int
        Neighbours per point (``k < N``).
    device : str, default "cpu"
        Torch device of the matrix products.
    chunk : int, default 4096
        Rows per query and key block: memory is O(chunk^2), never O(N^2).

    Returns
    -------
    numpy.ndarray
        ``(N, k)`` int64, most similar first.
    """
    import torch

    spaces = as_spaces(spaces)
    n = spaces[0].shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must be in 1..{n - 1} for {n} points, got {k}")
    scale = 1.0 / len(spaces)
    out = np.empty((n, k), dtype=np.int64)
    for q0, q1 in row_blocks(n, chunk):
        queries = _normalised(spaces, q0, q1, device)
        best_sim = torch.full((q1 - q0, 0), -math.inf, device=device)
        best_idx = torch.empty((q1 - q0, 0), dtype=torch.int64, device=device)
        for k0, k1 in row_blocks(n, chunk):
            keys = queries if k0 == q0 else _normalised(spaces, k0, k1, device)
            sim = (queries @ keys.T) * scale
            if k0 < q1 and q0 < k1:  # the block holds the diagonal: exclude self
                rows = torch.arange(max(q0, k0), min(q1, k1), device=device)
                sim[rows - q0, rows - k0] = -math.inf
            top = torch.topk(sim, min(k, k1 - k0), dim=1)
            idx = top.indices + k0
            sims = torch.cat([best_sim, top.values], dim=1)
            keep = torch.topk(sims, min(k, sims.shape[1]), dim=1).indices
            best_sim = sims.gather(1, keep)
            best_idx = torch.cat([best_idx, idx], dim=1).gather(1, keep)
        out[q0:q1] = best_idx.cpu().numpy()
    return out


# --------------------------------------------------------------------------- heads


def _new_heads(n_heads: int, dim: int, hidden: int, bottleneck: int, k: int) -> Any:
    """H heads as stacked parameters, initialised as the official DINO-style head."""
    import torch
    from torch import nn

    def trunc(*shape: int) -> nn.Parameter:
        return nn.Parameter(nn.init.trunc_normal_(torch.empty(*shape), std=0.02))

    bound = 1.0 / math.sqrt(bottleneck)  # nn.Linear's default init of the last layer
    return nn.ParameterDict(
        {
            "w1": trunc(n_heads, dim, hidden),
            "b1": nn.Parameter(torch.zeros(n_heads, 1, hidden)),
            "w2": trunc(n_heads, hidden, bottleneck),
            "b2": nn.Parameter(torch.zeros(n_heads, 1, bottleneck)),
            "v": nn.Parameter(torch.empty(n_heads, bottleneck, k).uniform_(-bound, bound)),
            "g": nn.Parameter(torch.ones(n_heads, 1, k)),  # weight-norm gain, trainable
        }
    )


def _heads_forward(p: Any, x: Any) -> Any:
    """Raw outputs ``(H, B, K)`` of all heads for the inputs ``x`` of shape ``(B, d)``."""
    import torch
    import torch.nn.functional as F

    h = F.gelu(torch.matmul(x, p["w1"]) + p["b1"])
    h = F.normalize(torch.baddbmm(p["b2"], h, p["w2"]), dim=-1)
    weight = p["g"] * p["v"] / p["v"].norm(dim=1, keepdim=True)  # weight norm per output unit
    return torch.bmm(h, weight)


def _log_pmi(log_p: Any, log_q: Any, log_prior: Any, beta: float) -> Any:
    """``log sum_k (p_k q_k)^beta / prior_k`` computed in log space; shape ``(H, B)``."""
    import torch

    return torch.logsumexp(beta * (log_p + log_q) - log_prior[:, None, :], dim=-1)


def _cosine(step: int, total: int, start: float, end: float) -> float:
    """Cosine schedule from ``start`` (step 0) to ``end`` (step ``total``)."""
    if total <= 0:
        return end
    return end + 0.5 * (start - end) * (1 + math.cos(math.pi * step / total))


class TEMI(FlatModel):
    """TEMI clustering heads on frozen embeddings.

    Parameters
    ----------
    n_clusters : int
        Number K of clusters (>= 2).
    seed : int, default 0
        Seeds the initialisation, the batch order and the neighbour draws (official seed 0).
    device : str, default "auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda[:i]"``.
    n_heads : int, default 16
        Heads H.
    knn : int, default 50
        Neighbours a positive partner is drawn from.
    epochs : int, default 100
    batch_size : int, default 1024
        Capped at N; incomplete last batches are dropped, as in the official loader.
    lr : float, default 1e-4
        Base learning rate for batch 256; the peak rate is ``lr * batch_size / 256``.
    min_lr : float, default 1e-4
        Final learning rate of the cosine decay for batch 256; scaled like ``lr``.
    warmup_epochs : int, default 20
        Linear warm-up of the learning rate from 0 (capped at ``epochs``).
    weight_decay : float, default 1e-4
    beta : float, default 0.6
        Exponent of the beta-PMI.
    student_temp, teacher_temp : float, default 0.1
    momentum : float, default 0.996
        Teacher EMA momentum at the start.
    final_momentum : float, optional
        Momentum at the end of a cosine schedule; ``None`` keeps ``momentum`` constant.
    probs_momentum : float, default 0.9
        EMA momentum of the teacher cluster prior.
    hidden_dim, bottleneck_dim : int, default 512, 256
    freeze_last_layer : int, default 1
        Epochs during which the last layer is not updated.
    embed_norm : bool, default False
        Standardise every embedding dimension with the training mean and std.
    knn_chunk : int, default 4096
        Block size of the neighbour search.

    Attributes
    ----------
    head_ : dict of numpy.ndarray
        Teacher parameters of the kept head.
    best_head_ : int
        Index of the kept head (lowest average loss in the final epoch).
    history_ : list of float
        Mean loss over heads per epoch.
    head_losses_ : numpy.ndarray
        ``(epochs, H)`` average loss of every head per epoch.
    n_empty_clusters_ : int
        Clusters that no training point is assigned to by the kept head.
    space_dims_ : tuple of int
    """

    def __init__(
        self,
        n_clusters: int,
        seed: int = 0,
        device: str = "auto",
        *,
        n_heads: int = 16,
        knn: int = 50,
        epochs: int = 100,
        batch_size: int = 1024,
        lr: float = 1e-4,
        min_lr: float = 1e-4,
        warmup_epochs: int = 20,
        weight_decay: float = 1e-4,
        beta: float = 0.6,
        student_temp: float = 0.1,
        teacher_temp: float = 0.1,
        momentum: float = 0.996,
        final_momentum: float | None = None,
        probs_momentum: float = 0.9,
        hidden_dim: int = 512,
        bottleneck_dim: int = 256,
        freeze_last_layer: int = 1,
        embed_norm: bool = False,
        knn_chunk: int = 4096,
    ) -> None:
        self.n_clusters = check_n_clusters(n_clusters)
        self.seed = int(seed)
        self.device = device
        resolve_device(device)
        for name in ("n_heads", "knn", "epochs", "batch_size", "hidden_dim", "bottleneck_dim"):
            check_positive(name, locals()[name], integer=True)
        check_positive("knn_chunk", knn_chunk, integer=True)
        for name in ("lr", "min_lr", "beta", "student_temp", "teacher_temp"):
            check_positive(name, locals()[name])
        for name, value in (
            ("warmup_epochs", warmup_epochs),
            ("freeze_last_layer", freeze_last_layer),
        ):
            if isinstance(value, bool) or int(value) != value or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if not 0 <= weight_decay < math.inf:
            raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
        for name in ("momentum", "probs_momentum"):
            if not 0 <= locals()[name] <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {locals()[name]!r}")
        if final_momentum is not None and not 0 <= final_momentum <= 1:
            raise ValueError(f"final_momentum must be in [0, 1] or None, got {final_momentum!r}")
        self.n_heads, self.knn, self.epochs = int(n_heads), int(knn), int(epochs)
        self.batch_size = int(batch_size)
        self.lr, self.min_lr = float(lr), float(min_lr)
        self.warmup_epochs = int(warmup_epochs)
        self.weight_decay = float(weight_decay)
        self.beta = float(beta)
        self.student_temp, self.teacher_temp = float(student_temp), float(teacher_temp)
        self.momentum = float(momentum)
        self.final_momentum = None if final_momentum is None else float(final_momentum)
        self.probs_momentum = float(probs_momentum)
        self.hidden_dim, self.bottleneck_dim = int(hidden_dim), int(bottleneck_dim)
        self.freeze_last_layer = int(freeze_last_layer)
        self.embed_norm = bool(embed_norm)
        self.knn_chunk = int(knn_chunk)

    # ----------------------------------------------------------------- fitting

    def fit(
        self,
        spaces: Sequence[np.ndarray] | np.ndarray,
        progress: bool = True,
        log_file: str | os.PathLike | None = None,
    ) -> TEMI:
        """Mine neighbours, then train the heads.

        Parameters
        ----------
        spaces : list of array-like of shape (N, d_s)
            One feature matrix per embedding space; memory-mapped arrays are read in blocks
            (neighbour search, statistics) and one batch at a time (training).
        progress : bool, default True
            Show a tqdm bar with the loss and the non-empty clusters of the best head.
        log_file : path-like, optional
            Append a line per epoch and a summary to this file.

        Returns
        -------
        TEMI
            ``self``, fitted.

        Raises
        ------
        ValueError
            On invalid spaces (not 2-D, unequal N, NaN/inf, too few rows for K or ``knn``).
        FloatingPointError
            If the loss becomes NaN or infinite; the message names the epoch and iteration.
        """
        import torch

        spaces = as_spaces(spaces)
        n = spaces[0].shape[0]
        check_n_clusters(self.n_clusters, n)
        if self.knn >= n:
            raise ValueError(f"knn={self.knn} needs more than {self.knn} points, got {n}")
        check_finite(spaces)
        device = resolve_device(self.device)
        generator = seed_torch(self.seed)
        dims = [int(s.shape[1]) for s in spaces]
        self.mean_, self.std_ = self._statistics(spaces)
        neighbours = torch.from_numpy(mine_neighbours(spaces, self.knn, device, self.knn_chunk))
        dim = sum(dims)
        student = _new_heads(
            self.n_heads, dim, self.hidden_dim, self.bottleneck_dim, self.n_clusters
        ).to(device)
        teacher = {key: student[key].detach().clone() for key in _HEAD_KEYS}
        optimizer = self._optimizer(student)
        batch = min(self.batch_size, n)
        per_epoch = n // batch
        state = {
            "log_prior": torch.full(
                (self.n_heads, self.n_clusters), -math.log(self.n_clusters), device=device
            ),
            "total": self.epochs * per_epoch,
            "per_epoch": per_epoch,
            "batch": batch,
        }
        self.history_: list[float] = []
        head_losses = np.zeros((self.epochs, self.n_heads))
        with TrainingLog(state["total"], "TEMI", self.n_clusters, progress, log_file) as log:
            log.write(f"N={n}, dims={dims}, batch={batch}, {self!r}")
            for epoch in range(self.epochs):
                order = torch.randperm(n, generator=generator)
                sums = torch.zeros(self.n_heads, dtype=torch.float64)
                counts = torch.zeros(self.n_heads, self.n_clusters, dtype=torch.int64)
                for it in range(per_epoch):
                    step = epoch * per_epoch + it
                    index = order[it * batch : (it + 1) * batch]
                    pick = torch.randint(self.knn, (batch,), generator=generator)
                    partner = neighbours[index, pick]
                    x = self._inputs(spaces, torch.cat([index, partner]).numpy(), device)
                    losses, assigned = self._train_step(
                        x, student, teacher, optimizer, state, step, epoch
                    )
                    check_loss(float(losses.mean()), f"{epoch + 1}, iteration {it + 1}", "epoch")
                    sums += losses.double().cpu()
                    counts += assigned.cpu()
                    best = int(torch.argmin(sums))
                    log.update(step, float(losses.mean()), int((counts[best] > 0).sum()))
                head_losses[epoch] = (sums / per_epoch).numpy()
                self.history_.append(float(head_losses[epoch].mean()))
                best = int(np.argmin(head_losses[epoch]))
                log.write(
                    f"epoch {epoch + 1}: mean loss {self.history_[-1]:.6f}, best head {best} "
                    f"(loss {head_losses[epoch, best]:.6f}, non-empty clusters in epoch "
                    f"{int((counts[best] > 0).sum())}/{self.n_clusters})"
                )
            self.head_losses_ = head_losses
            self.space_dims_ = tuple(dims)  # marks the model fitted
            self.best_head_ = int(np.argmin(head_losses[-1]))
            self.head_ = {
                key: teacher[key][self.best_head_ : self.best_head_ + 1].cpu().numpy()
                for key in _HEAD_KEYS
            }
            self.n_empty_clusters_ = self._count_empty(self.predict(spaces))
            log.write(
                f"done: kept head {self.best_head_}, "
                f"{self.n_clusters - self.n_empty_clusters_}/{self.n_clusters} clusters non-empty "
                f"on the training data ({self.n_empty_clusters_} empty)"
            )
        return self

    def _statistics(self, spaces: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Per-dimension mean and std of the concatenated spaces (zeros/ones if not used)."""
        dim = sum(s.shape[1] for s in spaces)
        if not self.embed_norm:
            return np.zeros(dim, np.float32), np.ones(dim, np.float32)
        n = spaces[0].shape[0]
        total = np.zeros(dim)
        total_sq = np.zeros(dim)
        for start, stop in row_blocks(n, 65_536):
            block = np.concatenate([np.asarray(s[start:stop], np.float64) for s in spaces], 1)
            total += block.sum(0)
            total_sq += (block**2).sum(0)
        mean = total / n
        std = np.sqrt(np.maximum(total_sq / n - mean**2, 0.0))
        return mean.astype(np.float32), np.where(std > 0, std, 1.0).astype(np.float32)

    def _inputs(self, spaces: list[np.ndarray], index: Any, device: str) -> Any:
        """Rows ``index`` of the concatenated (standardised) spaces as one tensor."""
        import torch

        x = torch.cat(rows_to_tensor(spaces, index, device), dim=1)
        if self.embed_norm:
            x = (x - torch.from_numpy(self.mean_).to(device)) / torch.from_numpy(self.std_).to(
                device
            )
        return x

    def _optimizer(self, student: Any) -> Any:
        """AdamW; biases are not decayed (the official parameter groups)."""
        import torch

        decay = [p for key, p in student.items() if not key.startswith("b")]
        no_decay = [p for key, p in student.items() if key.startswith("b")]
        return torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": self.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=0.0,
        )

    def _schedules(self, step: int, state: dict) -> tuple[float, float]:
        """Learning rate and teacher momentum at iteration ``step``.

        As the official schedule: both ends of the learning rate scaled by ``batch / 256``, a
        linear warm-up that reaches the peak at its last iteration (0 to peak in ``warm``
        evenly spaced values), then a cosine decay towards the scaled ``min_lr``.
        """
        total, per_epoch = state["total"], state["per_epoch"]
        scale = state["batch"] / 256  # the official linear scaling rule, for lr and min_lr
        peak, end = self.lr * scale, self.min_lr * scale
        warm = min(self.warmup_epochs, self.epochs) * per_epoch
        if step < warm:
            lr = peak * step / max(warm - 1, 1)
        else:
            lr = _cosine(step - warm, total - warm, peak, end)
        final = self.momentum if self.final_momentum is None else self.final_momentum
        return lr, _cosine(step, total, self.momentum, final)

    def _train_step(
        self,
        x: Any,
        student: Any,
        teacher: dict,
        optimizer: Any,
        state: dict,
        step: int,
        epoch: int,
    ) -> tuple[Any, Any]:
        """One student update and EMA teacher update; return per-head losses and counts."""
        import torch
        import torch.nn.functional as F

        batch = x.shape[0] // 2
        lr, momentum = self._schedules(step, state)
        for group in optimizer.param_groups:
            group["lr"] = lr
        log_ps = F.log_softmax(_heads_forward(student, x) / self.student_temp, dim=-1)
        with torch.no_grad():
            log_pt = F.log_softmax(_heads_forward(teacher, x) / self.teacher_temp, dim=-1)
            pt = log_pt.exp()
            prior = self.probs_momentum * state["log_prior"].exp() + (
                1 - self.probs_momentum
            ) * pt.mean(1)
            state["log_prior"] = prior.log()
            weight = (pt[:, :batch] * pt[:, batch:]).sum(-1).mean(0)  # (B,), mean over heads
        lp = state["log_prior"]
        pmi_12 = _log_pmi(log_ps[:, batch:], log_pt[:, :batch], lp, self.beta)
        pmi_21 = _log_pmi(log_ps[:, :batch], log_pt[:, batch:], lp, self.beta)
        losses = -0.5 * ((weight * pmi_12).mean(1) + (weight * pmi_21).mean(1))
        optimizer.zero_grad(set_to_none=True)
        losses.mean().backward()
        if epoch < self.freeze_last_layer:
            student["v"].grad = None
            student["g"].grad = None
        optimizer.step()
        with torch.no_grad():
            for key in _HEAD_KEYS:
                teacher[key].mul_(momentum).add_(student[key].detach(), alpha=1 - momentum)
            assigned = log_pt.argmax(-1) + torch.arange(self.n_heads, device=x.device)[:, None] * (
                self.n_clusters
            )
            counts = torch.bincount(assigned.flatten(), minlength=self.n_heads * self.n_clusters)
        return losses.detach(), counts.view(self.n_heads, self.n_clusters)

    # ----------------------------------------------------------------- inference

    def logits(
        self,
        spaces: Sequence[np.ndarray] | np.ndarray,
        batch_size: int = 65_536,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Return ``z_t(x) / tau_t`` of the kept teacher head, ``batch_size`` rows at a time.

        Parameters
        ----------
        spaces : list of array-like of shape (N, d_s)
            The spaces, in the order given to :meth:`fit` (any N).
        batch_size : int, default 65536
            Rows per block.
        out : numpy.ndarray, optional
            A writable ``(N, K)`` float32 array (e.g. a ``.npy`` memmap) filled block by block
            and returned; default a new array.

        Returns
        -------
        numpy.ndarray
            ``(N, K)`` float32.
        """
        import torch

        self._check_fitted()
        spaces = as_spaces(spaces)
        self._check_dims(spaces)
        check_positive("batch_size", batch_size, integer=True)
        device = resolve_device(self.device)
        head = {key: torch.from_numpy(value).to(device) for key, value in self.head_.items()}
        out = output_array(out, spaces[0].shape[0], self.n_clusters)
        with torch.no_grad():
            for start, stop in row_blocks(out.shape[0], int(batch_size)):
                x = self._inputs(spaces, slice(start, stop), device)
                if not bool(torch.isfinite(x).all()):
                    raise ValueError(
                        f"spaces contain NaN or infinite values in rows {start}:{stop}"
                    )
                out[start:stop] = (_heads_forward(head, x)[0] / self.teacher_temp).cpu().numpy()
        return out

    # ----------------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike) -> None:
        """Save the hyperparameters and the kept teacher head to one ``.pt`` file."""
        import torch

        self._check_fitted()
        save_torch(
            path,
            {
                "format": _FORMAT,
                "version": _VERSION,
                "params": self.get_params(),
                "head": {key: torch.from_numpy(value) for key, value in self.head_.items()},
                "mean": torch.from_numpy(self.mean_),
                "std": torch.from_numpy(self.std_),
                "space_dims": list(self.space_dims_),
                "best_head": self.best_head_,
                "history": list(self.history_),
                "head_losses": torch.from_numpy(self.head_losses_),
                "n_empty_clusters": self.n_empty_clusters_,
            },
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> TEMI:
        """Load a model written by :meth:`save` (no training data needed).

        Raises
        ------
        ValueError
            If ``path`` is not a saved TEMI of this version.
        """
        payload = load_torch(path, _FORMAT, _VERSION)
        params = dict(payload["params"])
        if params["device"] != "cpu":
            params["device"] = "auto"  # a model trained on a GPU loads on a CPU-only machine
        model = cls(**params)
        model.head_ = {key: value.numpy() for key, value in payload["head"].items()}
        model.mean_ = payload["mean"].numpy()
        model.std_ = payload["std"].numpy()
        model.space_dims_ = tuple(int(d) for d in payload["space_dims"])
        model.best_head_ = int(payload["best_head"])
        model.history_ = [float(v) for v in payload["history"]]
        model.head_losses_ = payload["head_losses"].numpy()
        model.n_empty_clusters_ = int(payload["n_empty_clusters"])
        return model
