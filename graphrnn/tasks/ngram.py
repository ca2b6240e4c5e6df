"""N-gram language-model baseline: interpolated Kneser-Ney with one discount or modified Kneser-Ney
with three, counted and scored with integer arrays, on exactly the tokens an RNN language model is
scored on.

The scoring convention (shared with :func:`lm_batch` / :func:`token_nll` and
:meth:`graphrnn.datasets.TextCorpus.stream` for RNNs)
-----------------------------------------------------------------------------------------------
A sequence ``s_1 .. s_n`` (tokens mapped through the vocabulary, unknown ones to ``<unk>``) is
scored as ``n + 1`` predictions: ``s_1 .. s_n`` and a final ``<eos>``, each given everything
before it::

    NLL(s) = - sum_{t=1}^{n+1} log p(s_t | <bos>, s_1 .. s_{t-1}),      s_{n+1} = <eos>

``<bos>`` is context only, never predicted (the model left-pads every sequence with ``order - 1``
of them). The perplexity of a corpus is token-weighted, ``PPL = exp(sum_s NLL(s) / sum_s (len(s) +
1))`` in natural-log units, the same quantity as an RNN's ``exp(mean cross-entropy)`` over
:func:`lm_batch` targets or over a :class:`~graphrnn.datasets.TextCorpus` stream.

Kneser-Ney (Kneser & Ney 1995; Chen & Goodman 1998, "An Empirical Study of Smoothing Techniques for
Language Modeling", sections 2.7-2.8 and 3)
----------------------------------------------------------------------------------------------
Every order ``k`` interpolates a discounted estimate with the order below::

    p_k(w | c) = max(a(c w) - D(a(c w)), 0) / a(c .)  +  gamma(c) p_{k-1}(w | c[1:])
    gamma(c)   = (D1 N1(c .) + D2 N2(c .) + D3+ N3+(c .)) / a(c .)

where at the highest order ``a`` is the count ``c(c w)`` and at lower orders the *continuation*
count ``N1+(. c w)`` (how many distinct tokens precede ``c w``); ``a(c .) = sum_w a(c w)``;
``Nj(c .)`` is the number of tokens ``w`` with ``a(c w) = j`` (``N3+``: at least 3); ``D(a)`` is
``D1``, ``D2`` or ``D3+`` for ``a`` = 1, 2, >= 3. A context never seen at order ``k`` passes the
lower order through (``p_k = p_{k-1}``). The lowest level is the unigram of continuation counts,
interpolated (``uniform_floor=True``, the default) with the uniform distribution over the
predictable tokens (the vocabulary's regular tokens, ``<unk>`` and ``<eos>``), as Chen & Goodman
do, so every probability is positive and each conditional distribution sums to one.

* ``smoothing="kn"``: one discount ``D1 = D2 = D3+ = discount`` for all orders (nltk's
  :class:`~nltk.lm.KneserNeyInterpolated`, whose numbers it reproduces with
  ``uniform_floor=False``: tested).
* ``smoothing="mkn"``: modified Kneser-Ney, three discounts per order from the count-of-counts
  ``n_j`` (the number of order-``k`` n-grams whose ``a`` is ``j``)::

      Y = n1 / (n1 + 2 n2),  D1 = 1 - 2 Y n2/n1,  D2 = 2 - 3 Y n3/n2,  D3+ = 3 - 4 Y n4/n3

  At lower orders the ``n_j`` count continuation counts (as KenLM does). When some ``n_j`` is 0
  (tiny corpora) the estimate is undefined and KenLM's fallback ``(0.5, 1.0, 1.5)`` is used; every
  discount is clipped to ``[0, j]``.

Implementation: tokens become integer ids; the n-gram ending at each position gets an int64 key
``rank(its (k-1)-gram prefix) * B + last id`` (``B`` ids), so an order's n-grams are counted with
one ``numpy.unique`` and looked up with ``searchsorted`` (no Python object per n-gram); a whole
corpus is scored with a handful of array operations per order.

Speed and memory (this 2-core CPU, measured once with ``/usr/bin/time -v``): a 5-gram on 1.07M
tokens (every sentence of CoNLL-2000 words, cmn-eng English words and Tang poem characters, 32k
types) fits in 2.6 s ("kn") / 3.8 s ("mkn") and the whole process peaks at 0.59 GB resident
(0.32 GB before fitting: torch and the corpora); it scores ~250k tokens/s. The former nltk-counter
implementation took 43 s to fit a 5-gram on the 0.51M-character Tang poem training split (same
perplexities to 1e-12).

Size: over 400 lines because the model, its vectorised scoring and the validation selection
(:func:`select_ngram`) share private tables and belong together; the RNN-side helpers
(:func:`token_nll`, :func:`perplexity_from_nll`) are the other half of the scoring convention.
"""
from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from ..datasets.lm_batches import lm_batch

if TYPE_CHECKING:  # tasks sit above datasets in the layering: the vocabulary is duck-typed
    from ..datasets.text import Vocab

# the special tokens of graphrnn.datasets.text.Vocab
BOS, EOS, UNK = "<bos>", "<eos>", "<unk>"
SMOOTHINGS = ("kn", "mkn")
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # KenLM's --discount_fallback

__all__ = ["NGramLM", "select_ngram", "mkn_discounts", "lm_batch", "token_nll",
           "perplexity_from_nll"]


def mkn_discounts(count_of_counts: Sequence[int]) -> tuple[float, float, float]:
    """``(D1, D2, D3+)`` of Chen & Goodman from ``(n1, n2, n3, n4)``, the numbers of n-grams seen
    exactly 1, 2, 3, 4 times; the fallback ``(0.5, 1.0, 1.5)`` where a ratio is undefined, each
    clipped to ``[0, j]``."""
    n1, n2, n3, n4 = (float(n) for n in count_of_counts)
    if min(n1, n2, n3) <= 0:
        return FALLBACK_DISCOUNTS
    y = n1 / (n1 + 2 * n2)
    d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    return tuple(min(max(x, 0.0), j) for j, x in enumerate(d, 1))


def _lookup(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Index of each key in the sorted ``table``, -1 where absent (negative keys are absent)."""
    if len(table) == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    i = np.searchsorted(table, keys)
    i = np.minimum(i, len(table) - 1)
    return np.where((table[i] == keys) & (keys >= 0), i, -1)


def _shift(a: np.ndarray, fill: int = -1) -> np.ndarray:
    """``a[t - 1]`` at position ``t`` (``fill`` at 0)."""
    out = np.empty_like(a)
    out[0] = fill
    out[1:] = a[:-1]
    return out


class _Order:
    """The tables of one order ``k``: the sorted keys of its n-grams with ``a > 0`` and their
    ``a`` (counts at the top order, continuation counts below), and per context (rank of the
    (k-1)-gram) ``a(c .)`` and ``N1, N2, N3+``."""

    def __init__(self, keys: np.ndarray, values: np.ndarray, num_contexts: int, B: int):
        self.keys, self.values = keys, values
        ctx = keys // B
        self.total = np.bincount(ctx, weights=values, minlength=num_contexts)
        self.n = np.stack([np.bincount(ctx[values == 1], minlength=num_contexts),
                           np.bincount(ctx[values == 2], minlength=num_contexts),
                           np.bincount(ctx[values >= 3], minlength=num_contexts)]).astype(np.int32)
        self.count_of_counts = [int((values == j).sum()) for j in (1, 2, 3, 4)]


class NGramLM:
    """Interpolated (modified) Kneser-Ney N-gram language model over token sequences (see the
    module notes for the formulas and for the scoring convention, which matches an RNN's).

    Args:
        order: the N of the N-grams, >= 2 (2-5 for the baseline table).
        discount: ``smoothing="kn"``'s absolute discount in ``[0, 1]``, one for all orders. Default
            0.75, inside the range of Ney's estimate ``n1 / (n1 + 2 n2)`` on Tang poems (0.68 for
            bigrams to 0.91 for 5-grams); nltk's default 0.1 leaves too little mass to the lower
            orders. Ignored by ``"mkn"``. :func:`select_ngram` picks it on validation.
        uniform_floor: interpolate the unigram level with the uniform distribution (default True);
            False reproduces nltk's numbers exactly, zeros included.
        smoothing: ``"kn"`` (default) or ``"mkn"`` (three discounts per order estimated from the
            training counts; :attr:`discounts` after :meth:`fit`).
        bos, eos, unk: the special tokens (graphrnn's ``<bos>``, ``<eos>``, ``<unk>`` by default).

    Attributes (after :meth:`fit`): ``outcomes`` (the predictable tokens), ``discounts``
    (``(order, 3)`` array, row ``k-1`` = ``D1, D2, D3+`` of order ``k``), ``fit_seconds``.

    Example::

        lm = NGramLM(order=5, smoothing="mkn").fit(train_token_lists, vocab)
        lm.perplexity(test_token_lists)
    """

    def __init__(self, order: int = 3, discount: float = 0.75, uniform_floor: bool = True,
                 smoothing: str = "kn", bos: str = BOS, eos: str = EOS, unk: str = UNK):
        if order < 2:
            raise ValueError(f"NGramLM: order must be >= 2 (Kneser-Ney's unigram level is made of "
                             f"bigram continuation counts), got {order}")
        if not 0.0 <= discount <= 1.0:
            raise ValueError(f"NGramLM: discount must be in [0, 1], got {discount}")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"NGramLM: smoothing must be one of {SMOOTHINGS}, got {smoothing!r}")
        self.order, self.discount, self.uniform_floor = order, discount, uniform_floor
        self.smoothing = smoothing
        self.bos, self.eos, self.unk = bos, eos, unk
        self._orders: list[_Order] | None = None
        self.fit_seconds = 0.0

    # --- preparing tokens ----------------------------------------------------------------------
    def _encode(self, sequences: Iterable[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """``(x, offset)``: the ids of every sequence as ``order - 1`` ``<bos>``, its tokens and
        ``<eos>``, concatenated, and each position's offset from its sequence's start."""
        ids, unk, pad = self._ids, self._ids[self.unk], [self._bos_id] * (self.order - 1)
        flat: list[int] = []
        lengths: list[int] = []
        for s in sequences:
            if isinstance(s, str):
                raise TypeError("NGramLM: a sequence must be a list of tokens, got a str (use "
                                "tokenize(text) or list(text))")
            for tok in (self.bos, self.eos):
                if tok in s:
                    raise ValueError(f"NGramLM: sequences must not contain {tok!r}; it is added")
            flat.extend(pad)
            flat.extend([ids.get(t, unk) for t in s])
            flat.append(self._eos_id)
            lengths.append(len(s) + self.order)
        x = np.array(flat, dtype=np.int64)
        lengths_a = np.array(lengths, dtype=np.int64)
        starts = np.cumsum(lengths_a) - lengths_a
        offset = np.arange(len(x), dtype=np.int64) - np.repeat(starts, lengths_a)
        return x, offset

    def _keys(self, x: np.ndarray, offset: np.ndarray, prefix_rank: np.ndarray | None,
              k: int) -> np.ndarray:
        """Key of the k-gram ending at each position (-1 where the window leaves its sequence or
        its prefix is unknown)."""
        if k == 1:
            return x.copy()
        prev = _shift(prefix_rank)
        return np.where((offset >= k - 1) & (prev >= 0), prev * self._B + x, -1)

    # --- fitting -------------------------------------------------------------------------------
    def fit(self, sequences: Iterable[Sequence[str]], vocab: Vocab | None = None) -> NGramLM:
        """Count the N-grams of ``sequences`` (lists of tokens, without ``<bos>``/``<eos>``).

        Args:
            sequences: the training token lists.
            vocab: the vocabulary the RNN uses (a :class:`graphrnn.datasets.text.Vocab`, or any
                object with ``to_list()`` and ``specials``). Tokens outside it become ``<unk>`` and
                the uniform floor spreads over its predictable tokens (all but ``<pad>`` and
                ``<bos>``), so both models predict the same set of outcomes. Default: every
                training token.
        """
        start = time.perf_counter()
        if vocab is not None:
            regular = [t for t in vocab.to_list() if t not in vocab.specials]
        else:
            sequences = [list(s) for s in sequences]
            regular = sorted({t for s in sequences for t in s} - {self.bos, self.eos, self.unk})
        self.outcomes = regular + [self.unk, self.eos]
        self._known = set(regular)
        self._ids = {t: i for i, t in enumerate(self.outcomes)}
        self._eos_id, self._bos_id = self._ids[self.eos], len(self.outcomes)
        self._B = len(self.outcomes) + 1
        N = self.order
        x, offset = self._encode(sequences)
        predicted = offset >= N - 1
        # keys[k-1]: the k-gram ending at each predicted position; tables[m-1]: the sorted keys
        # of every m-gram inside a sequence (m < N), whose index is the m-gram's rank
        self._tables: list[np.ndarray] = []
        keys: list[np.ndarray] = []
        rank = None
        for k in range(1, N + 1):
            key = self._keys(x, offset, rank, k)
            keys.append(key[predicted])
            if k < N:
                valid = key >= 0
                table, inverse = np.unique(key[valid], return_inverse=True)
                rank = np.full(len(key), -1, dtype=np.int64)
                rank[valid] = inverse
                self._tables.append(table)
        del x, offset, rank
        orders: list[_Order] = []
        for k in range(1, N + 1):
            num_contexts = 1 if k == 1 else len(self._tables[k - 2])
            if k == N:
                table, counts = np.unique(keys[k - 1], return_counts=True)
            else:  # continuation counts: one per distinct (k+1)-gram, given to its last k tokens
                _, first = np.unique(keys[k], return_index=True)
                table, counts = np.unique(keys[k - 1][first], return_counts=True)
            orders.append(_Order(table, counts.astype(np.int64), num_contexts, self._B))
        self._orders = orders
        self._set_discounts()
        self.fit_seconds = time.perf_counter() - start
        return self

    def _set_discounts(self) -> None:
        if self.smoothing == "kn":
            self.discounts = np.full((self.order, 3), float(self.discount))
        else:
            self.discounts = np.array([mkn_discounts(o.count_of_counts) for o in self._orders])

    def with_discount(self, discount: float) -> NGramLM:
        """A ``"kn"`` copy with another discount, sharing the counts (no refit)."""
        self._check_fitted()
        if not 0.0 <= discount <= 1.0:
            raise ValueError(f"NGramLM: discount must be in [0, 1], got {discount}")
        other = copy.copy(self)
        other.smoothing, other.discount = "kn", discount
        other._set_discounts()
        return other

    def _check_fitted(self):
        if self._orders is None:
            raise RuntimeError("NGramLM: call fit() first")

    # --- scoring -------------------------------------------------------------------------------
    def _context_ranks(self, x: np.ndarray, offset: np.ndarray) -> list[np.ndarray]:
        """``ranks[m]``: the rank of the m-gram ending at each position (``m = 0 .. N-1``; -1 if
        unseen in training)."""
        ranks = [np.zeros(len(x), dtype=np.int64)]
        rank = None
        for m in range(1, self.order):
            rank = _lookup(self._tables[m - 1], self._keys(x, offset, rank, m))
            ranks.append(rank)
        return ranks

    def _probs(self, ctx: list[np.ndarray], w: np.ndarray) -> np.ndarray:
        """``p(w | context)`` for events whose context of length ``m`` has rank ``ctx[m]``."""
        p = np.full(len(w), 1.0 / len(self.outcomes))
        for k, o in enumerate(self._orders, 1):
            c_rank = ctx[k - 1]
            ok = c_rank >= 0
            safe = np.where(ok, c_rank, 0)
            total = o.total[safe]
            ok &= total > 0
            i = _lookup(o.keys, np.where(ok, safe * self._B + w, -1))
            a = np.where(i >= 0, o.values[np.maximum(i, 0)], 0).astype(np.float64)
            if k == 1 and not self.uniform_floor:
                p = a / total
                continue
            d1, d2, d3 = self.discounts[k - 1]
            d = np.where(a >= 3, d3, np.where(a == 2, d2, np.where(a == 1, d1, 0.0)))
            n = o.n[:, safe]
            gamma = d1 * n[0] + d2 * n[1] + d3 * n[2]
            with np.errstate(divide="ignore", invalid="ignore"):
                new = (np.maximum(a - d, 0.0) + gamma * p) / total
            p = np.where(ok, new, p)
        return p

    def _event_probs(self, x: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """The probability of every predicted position of an encoded corpus, in order."""
        ranks = self._context_ranks(x, offset)
        at = np.flatnonzero(offset >= self.order - 1)
        return self._probs([r[at - 1] for r in ranks], x[at])

    def _context_ids(self, context: Sequence[str]) -> list[int]:
        ids, unk = self._ids, self._ids[self.unk]
        known = [self._bos_id if t == self.bos else ids.get(t, unk) for t in context]
        known = known[max(len(known) - (self.order - 1), 0):]
        return [self._bos_id] * (self.order - 1 - len(known)) + known

    def distribution(self, context: Sequence[str] = ()) -> np.ndarray:
        """``p(w | context)`` for every ``w`` of :attr:`outcomes`, as a float64 array (sums to
        one with ``uniform_floor``)."""
        self._check_fitted()
        x = np.array(self._context_ids(context), dtype=np.int64)
        ranks = self._context_ranks(x, np.arange(len(x), dtype=np.int64))
        V = len(self.outcomes)
        ctx = [np.full(V, r[-1] if len(r) else 0, dtype=np.int64) for r in ranks]
        return self._probs(ctx, np.arange(V, dtype=np.int64))

    def prob(self, word: str, context: Sequence[str] = ()) -> float:
        """``p(word | context)``; only the last ``order - 1`` context tokens matter, a shorter
        context is a sequence start."""
        self._check_fitted()
        x = np.array(self._context_ids(context) + [self._ids.get(word, self._ids[self.unk])],
                     dtype=np.int64)
        offset = np.arange(len(x), dtype=np.int64)
        return float(self._event_probs(x, offset)[-1])

    def sequence_nll(self, sequence: Sequence[str]) -> list[float]:
        """The ``len(sequence) + 1`` negative log-likelihoods (nats) of the convention; ``inf``
        where the probability is 0 (only possible with ``uniform_floor=False``)."""
        self._check_fitted()
        if isinstance(sequence, str):
            raise TypeError("NGramLM: a sequence must be a list of tokens, got a str (use "
                            "tokenize(text) or list(text))")
        with np.errstate(divide="ignore"):
            return (-np.log(self._event_probs(*self._encode([sequence])))).tolist()

    def nll(self, sequences: Iterable[Sequence[str]]) -> tuple[float, int]:
        """``(total NLL in nats, number of predicted tokens)`` over ``sequences``; the count is
        ``sum(len(s) + 1)``."""
        self._check_fitted()
        p = self._event_probs(*self._encode(sequences))
        if len(p) and p.min() <= 0:
            return math.inf, len(p)
        return float(-np.log(p).sum()), len(p)

    def perplexity(self, sequences: Iterable[Sequence[str]]) -> float:
        """Token-weighted perplexity ``exp(total NLL / predicted tokens)`` over ``sequences``."""
        total, count = self.nll(sequences)
        return perplexity_from_nll(total, count)

    def __repr__(self) -> str:
        extra = "" if self.smoothing == "kn" else f", smoothing={self.smoothing!r}"
        extra += "" if self.discount == 0.75 or self.smoothing != "kn" else \
            f", discount={self.discount}"
        extra += "" if self.uniform_floor else ", uniform_floor=False"
        return f"NGramLM(order={self.order}{extra})"


def select_ngram(train: Sequence[Sequence[str]], valid: Sequence[Sequence[str]],
                 vocab: Vocab | None = None, orders: Sequence[int] = (2, 3, 4, 5),
                 smoothing: str = "mkn",
                 discounts: Sequence[float] = (0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0)
                 ) -> tuple[NGramLM, list[dict]]:
    """Fit one model per order (and, for ``"kn"``, score each discount of the grid on the same
    counts) and keep the one with the lowest validation perplexity.

    Args:
        train, valid: token lists.
        vocab: the shared vocabulary (see :meth:`NGramLM.fit`).
        orders: the N to try. (default: 2-5)
        smoothing: ``"kn"``, ``"mkn"`` or ``"both"``. (default: ``"mkn"``)
        discounts: the ``"kn"`` discount grid.

    Returns:
        ``(best model, rows)``, a row ``{"order", "smoothing", "discount", "valid_ppl",
        "fit_s"}`` per candidate (``discount`` is ``None`` for ``"mkn"``).
    """
    kinds = SMOOTHINGS if smoothing == "both" else (smoothing,)
    if any(s not in SMOOTHINGS for s in kinds):
        raise ValueError(f"select_ngram: smoothing must be 'kn', 'mkn' or 'both', got "
                         f"{smoothing!r}")
    train = [list(s) for s in train]
    rows, best, best_ppl = [], None, math.inf
    for order in orders:
        for kind in kinds:
            lm = NGramLM(order, smoothing=kind).fit(train, vocab)
            encoded = lm._encode(valid)
            candidates = [lm] if kind == "mkn" else [lm.with_discount(d) for d in discounts]
            for cand in candidates:
                p = cand._event_probs(*encoded)
                ppl = math.exp(-np.log(p).mean())
                rows.append({"order": order, "smoothing": kind,
                             "discount": cand.discount if kind == "kn" else None,
                             "valid_ppl": ppl, "fit_s": round(lm.fit_seconds, 2)})
                if ppl < best_ppl:
                    best, best_ppl = cand, ppl
    return best, rows


# ------------------------------------------------------------------------------------------------
# the RNN side of the same convention

def token_nll(logits: torch.Tensor, targets: torch.Tensor, pad_index: int = 0) -> torch.Tensor:
    """Per-token negative log-likelihood (nats) of ``targets`` under ``logits``; 0 at padding.

    Args:
        logits: ``(..., V)`` unnormalised scores or log-probabilities (log-softmax is applied; it
            leaves log-probabilities unchanged).
        targets: ``(...)`` long, e.g. from :func:`lm_batch`.
        pad_index: the target index that is not scored.

    Returns:
        ``(...)`` tensor; ``perplexity_from_nll(out.sum(), (targets != pad_index).sum())`` is the
        perplexity comparable to :meth:`NGramLM.perplexity`.
    """
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"token_nll: logits {tuple(logits.shape)} must be targets "
                         f"{tuple(targets.shape)} plus a vocabulary dimension")
    flat = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=pad_index, reduction="none")
    return flat.view(targets.shape)


def perplexity_from_nll(total_nll: float | torch.Tensor, num_tokens: int | torch.Tensor) -> float:
    """``exp(total_nll / num_tokens)`` as a float (natural-log NLL)."""
    total_nll, num_tokens = float(total_nll), int(num_tokens)
    if num_tokens <= 0:
        raise ValueError(f"perplexity_from_nll: num_tokens must be positive, got {num_tokens}")
    return math.exp(total_nll / num_tokens)
