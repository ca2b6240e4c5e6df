"""Linear-chain conditional random field (Lafferty, McCallum & Pereira 2001,
https://repository.upenn.edu/cis_papers/159/), as the output layer of a BiLSTM tagger (Huang, Xu &
Yu 2015, https://arxiv.org/abs/1508.01991).

Given emission scores ``E`` of shape ``(T, K)`` for one sequence (e.g. the tagger's per-token
logits) the score of a tag sequence ``y_1 .. y_n`` is::

    s(y) = start[y_1] + sum_{t=1}^{n} E[t, y_t] + sum_{t=2}^{n} A[y_{t-1}, y_t] + end[y_n]

with learned transitions ``A`` (``A[i, j]``: from tag ``i`` to tag ``j``) and start / end scores,
and ``p(y | E) = exp(s(y)) / Z``. The log-partition ``log Z`` comes from the forward algorithm in
log space::

    alpha_1 = start + E[1],   alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + A[i, j]) + E[t, j],
    log Z = logsumexp_j(alpha_n[j] + end[j])

and the best sequence from the Viterbi recursion (``max`` for ``logsumexp``, with back-pointers).
Both are vectorised over the batch and loop over time only. Sequences of different lengths are
given by a mask that is true on each sequence's first ``n`` steps.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["CRF"]


class CRF(nn.Module):
    """A linear-chain CRF over ``num_tags`` tags.

    Args:
        num_tags: the number of tags ``K``.
        batch_first: inputs are ``(B, T, ...)`` instead of ``(T, B, ...)`` (default False, as
            :class:`torch.nn.LSTM`).

    Shapes:
        emissions: ``(T, B, K)``; tags: ``(T, B)`` long; mask: ``(T, B)`` bool, true on each
        sequence's first ``length`` steps (default: all true); with ``batch_first`` the first two
        dimensions are swapped.

    Attributes:
        transitions: ``(K, K)``; ``transitions[i, j]`` scores tag ``j`` following tag ``i``.
        start_transitions, end_transitions: ``(K,)`` scores of the first and of the last tag.
    """

    def __init__(self, num_tags: int, batch_first: bool = False):
        super().__init__()
        if num_tags < 1:
            raise ValueError(f"CRF: num_tags must be >= 1, got {num_tags}")
        self.num_tags, self.batch_first = num_tags, batch_first
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags))
        self.start_transitions = nn.Parameter(torch.empty(num_tags))
        self.end_transitions = nn.Parameter(torch.empty(num_tags))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in [-0.1, 0.1]: near-uniform transitions to start from."""
        for p in (self.transitions, self.start_transitions, self.end_transitions):
            nn.init.uniform_(p, -0.1, 0.1)

    # --- input checks ----------------------------------------------------------------------------
    def _prepare(self, emissions: torch.Tensor, tags: torch.Tensor | None,
                 mask: torch.Tensor | None):
        if emissions.dim() != 3 or emissions.shape[-1] != self.num_tags:
            raise ValueError(f"CRF: emissions must be (T, B, {self.num_tags})"
                             f"{' with batch_first' if self.batch_first else ''}, got "
                             f"{tuple(emissions.shape)}")
        if self.batch_first:
            emissions = emissions.transpose(0, 1)
            tags = tags.transpose(0, 1) if tags is not None else None
            mask = mask.transpose(0, 1) if mask is not None else None
        T, B, _ = emissions.shape
        if tags is not None and tags.shape != (T, B):
            raise ValueError(f"CRF: tags must be {(T, B)} (time, batch) to match emissions, got "
                             f"{tuple(tags.shape)}")
        if mask is None:
            mask = torch.ones(T, B, dtype=torch.bool, device=emissions.device)
        else:
            if mask.shape != (T, B):
                raise ValueError(f"CRF: mask must be {(T, B)} (time, batch), got "
                                 f"{tuple(mask.shape)}")
            mask = mask.bool()
            if T and not bool(mask[0].all()):
                raise ValueError("CRF: mask must be true at the first step of every sequence "
                                 "(empty sequences are not allowed)")
            if T > 1 and bool((mask[1:] & ~mask[:-1]).any()):
                raise ValueError("CRF: mask must be true on a prefix of each sequence "
                                 "(no false before a true)")
        if T == 0:
            raise ValueError("CRF: emissions have no time step")
        return emissions, tags, mask

    # --- scores ---------------------------------------------------------------------------------
    def _path_score(self, emissions, tags, mask) -> torch.Tensor:
        """``s(y)`` of the given tags, ``(B,)``."""
        T, B, _ = emissions.shape
        maskf = mask.to(emissions.dtype)
        batch = torch.arange(B, device=emissions.device)
        score = self.start_transitions[tags[0]] + emissions[0, batch, tags[0]]
        if T > 1:
            emit = emissions[1:].gather(2, tags[1:].unsqueeze(-1)).squeeze(-1)  # (T-1, B)
            trans = self.transitions[tags[:-1], tags[1:]]                         # (T-1, B)
            score = score + ((emit + trans) * maskf[1:]).sum(0)
        last = tags.gather(0, (mask.long().sum(0) - 1).unsqueeze(0)).squeeze(0)
        return score + self.end_transitions[last]

    def _log_partition(self, emissions, mask) -> torch.Tensor:
        """``log Z``, ``(B,)``, by the forward algorithm."""
        alpha = self.start_transitions + emissions[0]                        # (B, K)
        for t in range(1, emissions.shape[0]):
            nxt = torch.logsumexp(alpha.unsqueeze(2) + self.transitions, dim=1) + emissions[t]
            alpha = torch.where(mask[t].unsqueeze(1), nxt, alpha)           # finished: frozen
        return torch.logsumexp(alpha + self.end_transitions, dim=1)

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor | None = None
                      ) -> torch.Tensor:
        """``log Z`` of each sequence, ``(B,)``."""
        emissions, _, mask = self._prepare(emissions, None, mask)
        return self._log_partition(emissions, mask)

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor | None = None,
            reduction: str = "mean") -> torch.Tensor:
        """Negative log-likelihood ``log Z - s(y)`` of ``tags``.

        Args:
            emissions, tags, mask: see the class.
            reduction: ``"none"`` (``(B,)``), ``"sum"``, ``"mean"`` (over sequences; default) or
                ``"token_mean"`` (sum divided by the number of unmasked tokens).
        """
        emissions, tags, mask = self._prepare(emissions, tags, mask)
        nll = self._log_partition(emissions, mask) - self._path_score(emissions, tags, mask)
        if reduction == "none":
            return nll
        if reduction == "sum":
            return nll.sum()
        if reduction == "mean":
            return nll.mean()
        if reduction == "token_mean":
            return nll.sum() / mask.sum()
        raise ValueError(f"CRF.nll: reduction must be 'none', 'sum', 'mean' or 'token_mean', got "
                         f"{reduction!r}")

    forward = nll

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor | None = None,
               return_scores: bool = False):
        """Viterbi decoding: the highest-scoring tag sequence of each sequence.

        Returns:
            ``B`` lists of tags (each of its sequence's length); with ``return_scores`` also the
            ``(B,)`` tensor of their scores ``s(y*)``.
        """
        emissions, _, mask = self._prepare(emissions, None, mask)
        T, B, K = emissions.shape
        delta = self.start_transitions + emissions[0]                        # (B, K)
        pointers = []
        for t in range(1, T):
            best, arg = (delta.unsqueeze(2) + self.transitions).max(dim=1)    # over previous tag
            nxt = best + emissions[t]
            m = mask[t].unsqueeze(1)
            delta = torch.where(m, nxt, delta)
            # past a sequence's end, point each tag to itself so backtracking passes through
            pointers.append(torch.where(m, arg, torch.arange(K, device=arg.device).expand(B, K)))
        final = delta + self.end_transitions
        scores, last = final.max(dim=1)
        lengths = mask.long().sum(0).tolist()
        path = [last]
        for ptr in reversed(pointers):
            path.append(ptr.gather(1, path[-1].unsqueeze(1)).squeeze(1))
        path = torch.stack(path[::-1]).t().tolist()                          # (B, T)
        tags = [p[:n] for p, n in zip(path, lengths)]
        return (tags, scores) if return_scores else tags

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}" + (", batch_first=True" if self.batch_first else "")
