"""TURTLE (Gadetsky, Jiang and Brbic, ICML 2024): let two representation spaces vote a labelling.

TURTLE searches for the labelling of the data that linear classifiers in each (frozen)
representation space learn best. The *task encoder* is one weight-normalised linear layer
``theta_s`` per space ``s``; the labelling is the average of the per-space softmaxes,

.. math:: \\tau_\\theta(x) = \\frac{1}{S} \\sum_s \\mathrm{softmax}(\\theta_s \\phi_s(x)).

Each outer iteration draws a batch (without replacement) and

1. trains fresh ("cold start") linear classifiers ``w_s`` for ``M`` Adam steps on the
   cross-entropy against the detached labelling (summed over spaces);
2. takes one Adam step of the task encoder on the first-order hypergradient loss

   .. math:: \\sum_s \\mathrm{CE}(\\mathrm{sg}(w_s \\phi_s(x)), \\tau_\\theta(x))
             - \\gamma \\sum_s H\\big(\\overline{\\mathrm{softmax}(\\theta_s \\phi_s(x))}\\big),

   where the bar is the batch mean and ``H`` the entropy: the second term keeps every
   space's clusters balanced.

Defaults are those of the official ``run_turtle.py``: ``gamma=10``, ``T=6000`` outer
iterations (``outer_steps``), ``M=10`` inner steps (``inner_steps``), Adam with learning rate
1e-3 for both, batch 10,000 (at most N) and cold start. The official script's seed is 42;
here ``seed`` defaults to 0 like every model's (the workflow always passes the study's seeds).
Features are used as given (TURTLE does not normalise them).

Logits given to L2H
-------------------
``logits(kind="turtle")`` (the default) returns ``log(mean_s softmax(theta_s phi_s(x)))``: its
softmax is exactly TURTLE's predictive distribution (rows of ``exp`` sum to 1) and its argmax is
TURTLE's own prediction. For a single space it equals the raw logits up to a per-row constant,
which softmax ignores. ``logits(kind="space", space=s)`` gives the raw logits of one space's
task encoder.
"""

from __future__ import annotations

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

__all__ = ["TURTLE"]

_FORMAT = "turtle"
_VERSION = 1
_LOG_EVERY = 20  # iterations between log-file lines (TURTLE prints every 20 as well)


class TURTLE(FlatModel):
    """TURTLE on one or more frozen embedding spaces.

    Parameters
    ----------
    n_clusters : int
        Number K of clusters (>= 2).
    seed : int, default 0
        Seeds torch (initialisations) and the batch sampler (the official script uses 42).
    device : str, default "auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda[:i]"``.
    gamma : float, default 10.0
        Weight of the batch-marginal entropy regulariser.
    outer_steps : int, default 6000
        Outer iterations T (task encoder updates).
    inner_steps : int, default 10
        Inner Adam steps M of the linear classifiers per outer iteration.
    inner_lr, outer_lr : float, default 1e-3
        Adam learning rates (betas 0.9, 0.999) of the classifiers and the task encoder.
    batch_size : int, default 10000
        Points per outer iteration (capped at N).
    warm_start : bool, default False
        Keep the inner classifiers and their Adam state across outer iterations.

    Attributes
    ----------
    weights_ : list of numpy.ndarray
        Per space, the ``(K, d_s)`` effective weight ``g * v / ||v||`` of the task encoder.
    biases_ : list of numpy.ndarray
        Per space, the ``(K,)`` bias.
    history_ : list of float
        Outer loss at every iteration.
    n_empty_clusters_ : int
        Clusters that no training point is assigned to.
    space_dims_ : tuple of int
        Dimension of each space seen in :meth:`fit`.
    """

    def __init__(
        self,
        n_clusters: int,
        seed: int = 0,
        device: str = "auto",
        *,
        gamma: float = 10.0,
        outer_steps: int = 6000,
        inner_steps: int = 10,
        inner_lr: float = 1e-3,
        outer_lr: float = 1e-3,
        batch_size: int = 10_000,
        warm_start: bool = False,
    ) -> None:
        self.n_clusters = check_n_clusters(n_clusters)
        self.seed = int(seed)
        self.device = device
        resolve_device(device)
        if not (isinstance(gamma, int | float) and np.isfinite(gamma) and gamma >= 0):
            raise ValueError(f"gamma must be a finite number >= 0, got {gamma!r}")
        for name, value in (("outer_steps", outer_steps), ("inner_steps", inner_steps)):
            check_positive(name, value, integer=True)
        check_positive("batch_size", batch_size, integer=True)
        check_positive("inner_lr", inner_lr)
        check_positive("outer_lr", outer_lr)
        self.gamma = float(gamma)
        self.outer_steps = int(outer_steps)
        self.inner_steps = int(inner_steps)
        self.inner_lr = float(inner_lr)
        self.outer_lr = float(outer_lr)
        self.batch_size = int(batch_size)
        self.warm_start = bool(warm_start)

    # ----------------------------------------------------------------- fitting

    def fit(
        self,
        spaces: Sequence[np.ndarray] | np.ndarray,
        progress: bool = True,
        log_file: str | os.PathLike | None = None,
    ) -> TURTLE:
        """Train the task encoder on the spaces.

        Parameters
        ----------
        spaces : list of array-like of shape (N, d_s)
            One feature matrix per embedding space; memory-mapped arrays are read one batch
            (sorted row indices) per outer iteration.
        progress : bool, default True
            Show a tqdm bar with the loss and the batch's non-empty clusters.
        log_file : path-like, optional
            Append a line every 20 iterations and a summary to this file.

        Returns
        -------
        TURTLE
            ``self``, fitted.

        Raises
        ------
        ValueError
            On invalid spaces (not 2-D, unequal N, NaN/inf, fewer rows than clusters).
        FloatingPointError
            If the loss becomes NaN or infinite; the message names the iteration.
        """
        import torch

        spaces = as_spaces(spaces)
        n = spaces[0].shape[0]
        check_n_clusters(self.n_clusters, n)
        check_finite(spaces)
        device = resolve_device(self.device)
        generator = seed_torch(self.seed)
        batch = min(self.batch_size, n)
        encoders = self._task_encoder(spaces, device)
        outer_opt = torch.optim.Adam(encoders.parameters(), lr=self.outer_lr, betas=(0.9, 0.999))
        # the whole data set is the batch: read it once instead of every iteration
        fixed = rows_to_tensor(spaces, slice(None), device) if batch == n else None
        inner = None
        self.history_: list[float] = []
        with TrainingLog(self.outer_steps, "TURTLE", self.n_clusters, progress, log_file) as log:
            log.write(f"N={n}, dims={[s.shape[1] for s in spaces]}, batch={batch}, {self!r}")
            for step in range(1, self.outer_steps + 1):
                if fixed is None:
                    index = torch.randperm(n, generator=generator)[:batch].sort().values.numpy()
                    xs = rows_to_tensor(spaces, index, device)
                else:
                    xs = fixed
                if inner is None or not self.warm_start:
                    inner = self._inner_classifiers(spaces, device)
                loss, nonempty = self._outer_step(xs, encoders, outer_opt, inner)
                check_loss(loss, step)
                self.history_.append(loss)
                log.update(step, loss, nonempty, log=step % _LOG_EVERY == 0)
            self._store(encoders)
            labels = self.predict(spaces)
            self.n_empty_clusters_ = self._count_empty(labels)
            log.write(
                f"done: final loss {self.history_[-1]:.6f}, "
                f"{self.n_clusters - self.n_empty_clusters_}/{self.n_clusters} clusters non-empty "
                f"on the training data ({self.n_empty_clusters_} empty)"
            )
        return self

    def _task_encoder(self, spaces: list[np.ndarray], device: str) -> Any:
        """One weight-normalised ``Linear(d_s, K)`` per space."""
        from torch import nn
        from torch.nn.utils.parametrizations import weight_norm

        layers = [weight_norm(nn.Linear(s.shape[1], self.n_clusters)) for s in spaces]
        return nn.ModuleList(layers).to(device)

    def _inner_classifiers(self, spaces: list[np.ndarray], device: str) -> tuple[Any, Any]:
        """Fresh ``Linear(d_s, K)`` classifiers and their Adam optimiser."""
        import torch
        from torch import nn

        layers = nn.ModuleList([nn.Linear(s.shape[1], self.n_clusters) for s in spaces])
        layers = layers.to(device)
        opt = torch.optim.Adam(layers.parameters(), lr=self.inner_lr, betas=(0.9, 0.999))
        return layers, opt

    def _outer_step(self, xs: list, encoders: Any, outer_opt: Any, inner: tuple) -> tuple:
        """M inner steps then one task-encoder step; return (outer loss, non-empty count)."""
        import torch
        import torch.nn.functional as F

        probs = [torch.softmax(enc(x), dim=1) for enc, x in zip(encoders, xs, strict=True)]
        labelling = torch.stack(probs).mean(0)
        target = labelling.detach()
        classifiers, inner_opt = inner
        for _ in range(self.inner_steps):
            inner_opt.zero_grad(set_to_none=True)
            inner_loss = sum(
                F.cross_entropy(w(x), target) for w, x in zip(classifiers, xs, strict=True)
            )
            inner_loss.backward()
            inner_opt.step()
        with torch.no_grad():
            log_preds = [F.log_softmax(w(x), dim=1) for w, x in zip(classifiers, xs, strict=True)]
        ce = sum(-(labelling * lp).sum(1).mean() for lp in log_preds)
        entropy = sum(torch.special.entr(p.mean(0)).sum() for p in probs)
        loss = ce - self.gamma * entropy
        outer_opt.zero_grad(set_to_none=True)
        loss.backward()
        outer_opt.step()
        sizes = torch.bincount(target.argmax(1), minlength=self.n_clusters)
        return float(loss.detach()), int((sizes > 0).sum())

    def _store(self, encoders: Any) -> None:
        """Keep the effective weights and biases of the task encoder as numpy arrays."""
        self.weights_ = [enc.weight.detach().cpu().numpy().astype(np.float32) for enc in encoders]
        self.biases_ = [enc.bias.detach().cpu().numpy().astype(np.float32) for enc in encoders]
        self.space_dims_ = tuple(int(w.shape[1]) for w in self.weights_)

    # ----------------------------------------------------------------- inference

    def logits(
        self,
        spaces: Sequence[np.ndarray] | np.ndarray,
        batch_size: int = 65_536,
        kind: str = "turtle",
        space: int | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Return the ``(N, K)`` float32 logits, computed ``batch_size`` rows at a time.

        Parameters
        ----------
        spaces : list of array-like of shape (N, d_s)
            The spaces, in the order given to :meth:`fit` (any N).
        batch_size : int, default 65536
            Rows per block.
        kind : {"turtle", "space"}, default "turtle"
            ``"turtle"``: ``log(mean_s softmax_s)``, whose softmax is TURTLE's prediction.
            ``"space"``: the raw logits ``theta_s phi_s(x)`` of space ``space``.
        space : int, optional
            The space for ``kind="space"``.
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
        if kind not in ("turtle", "space"):
            raise ValueError(f"kind must be 'turtle' or 'space', got {kind!r}")
        if kind == "space" and (space is None or not 0 <= space < len(spaces)):
            raise ValueError(f"kind='space' needs space in 0..{len(spaces) - 1}, got {space!r}")
        device = resolve_device(self.device)
        weights = [torch.from_numpy(w).to(device) for w in self.weights_]
        biases = [torch.from_numpy(b).to(device) for b in self.biases_]
        out = output_array(out, spaces[0].shape[0], self.n_clusters)
        with torch.no_grad():
            for start, stop in row_blocks(out.shape[0], int(batch_size)):
                xs = rows_to_tensor(spaces, slice(start, stop), device)
                if not all(bool(torch.isfinite(x).all()) for x in xs):
                    raise ValueError(
                        f"spaces contain NaN or infinite values in rows {start}:{stop}"
                    )
                raw = [x @ w.T + b for x, w, b in zip(xs, weights, biases, strict=True)]
                if kind == "space":
                    block = raw[space]
                else:
                    log_probs = torch.stack([torch.log_softmax(z, dim=1) for z in raw])
                    block = torch.logsumexp(log_probs, dim=0) - np.log(len(raw))
                out[start:stop] = block.cpu().numpy()
        return out

    # ----------------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike) -> None:
        """Save the fitted model (hyperparameters and task encoder) to one ``.pt`` file."""
        import torch

        self._check_fitted()
        save_torch(
            path,
            {
                "format": _FORMAT,
                "version": _VERSION,
                "params": self.get_params(),
                "weights": [torch.from_numpy(w) for w in self.weights_],
                "biases": [torch.from_numpy(b) for b in self.biases_],
                "history": list(self.history_),
                "n_empty_clusters": self.n_empty_clusters_,
            },
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> TURTLE:
        """Load a model written by :meth:`save` (no training data needed).

        Raises
        ------
        ValueError
            If ``path`` is not a saved TURTLE of this version.
        """
        payload = load_torch(path, _FORMAT, _VERSION)
        params = dict(payload["params"])
        if params["device"] != "cpu":
            params["device"] = "auto"  # a model trained on a GPU loads on a CPU-only machine
        model = cls(**params)
        model.weights_ = [w.numpy() for w in payload["weights"]]
        model.biases_ = [b.numpy() for b in payload["biases"]]
        model.space_dims_ = tuple(int(w.shape[1]) for w in model.weights_)
        model.history_ = [float(v) for v in payload["history"]]
        model.n_empty_clusters_ = int(payload["n_empty_clusters"])
        return model
