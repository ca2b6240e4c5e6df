r"""Character- and word-level recurrent language models: training step, perplexity, sampling and
form-constrained poem generation.

The model (Elman 1990, "Finding Structure in Time"; Karpathy 2015, "The Unreasonable
Effectiveness of Recurrent Neural Networks" / char-rnn; Zaremba et al. 2014, "Recurrent Neural
Network Regularization", arXiv:1409.2329) reads tokens ``x_1 .. x_T`` and predicts each next one::

    e_t = E[x_t]                                  embedding, (B, T, D)
    h_t = cell(dropout(e_t), h_{t-1})             graphrnn.nn.LSTM / GRU / RNN chain, (B, T, H)
    p(x_{t+1} | x_{<=t}) = softmax(W dropout(h_t) + b)

With ``tie_weights=True`` the output matrix is the embedding matrix, ``W = E`` (Press & Wolf 2017,
"Using the Output Embedding to Improve Language Models"; Inan et al. 2017); when ``H != D`` a
linear projection ``H -> D`` comes first.

Training and scoring follow the convention of :mod:`graphrnn.tasks.ngram`: a sequence of ``n``
tokens is ``n + 1`` predictions (``s_1 .. s_n`` and ``<eos>``) given ``<bos>`` and the prefix, the
batches come from :func:`~graphrnn.datasets.lm_batches.lm_batch` (``LMCollate`` in a loader), and
the perplexity is ``exp(sum NLL / predicted tokens)``, so the number :func:`perplexity` reports is
directly comparable with :meth:`NGramLM.perplexity <graphrnn.tasks.ngram.NGramLM.perplexity>`
on the same sequences and vocabulary.

Sampling draws from ``softmax(logits / temperature)`` restricted to the ``top_k`` most likely tokens
(Fan et al. 2018), with an optional mask of allowed tokens per step; a ``seed`` or a
``torch.Generator`` makes it reproducible. :func:`generate_poems` imposes regulated-verse form
(``line_length`` ideographs, then ``，`` after odd and ``。`` after even lines) by masking the
logits, so every poem it returns passes :func:`graphrnn.datasets.poems.check_form`.

Size: just over 400 lines: the model, its step, stream and sentence perplexity and the samplers
(free and form-constrained) are read together by the poems application.
"""
from __future__ import annotations

import copy
import math
import re
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ..datasets.lm_batches import lm_batch
from ..nn.rnn import GRU, LSTM, RNN
from ..tasks.ngram import perplexity_from_nll, token_nll

__all__ = ["LanguageModel", "lm_step", "lm_num_tokens", "perplexity",
           "sample_next", "generate", "generate_poems", "ideograph_mask"]

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


class LanguageModel(nn.Module):
    r"""Embedding -> recurrent chain -> softmax over the vocabulary.

    Args:
        vocab_size (int): ``V``, number of tokens (specials included).
        embedding_dim (int): ``D``. (default: ``128``)
        hidden_size (int): ``H``. (default: ``256``)
        num_layers (int): stacked recurrent layers. (default: ``1``)
        cell (str): ``"lstm"``, ``"gru"`` or ``"rnn"`` (Elman's SRN, tanh). (default: ``"lstm"``)
        dropout (float): dropout on the embeddings, between layers and before the softmax
            (Zaremba et al. 2014: non-recurrent connections only). (default: ``0.0``)
        tie_weights (bool): share the embedding matrix with the output layer. (default: ``False``)
        pad_index (int): the padding token; its embedding is kept at zero. (default: ``0``)
        **rnn_kwargs: passed to the :mod:`graphrnn.nn` layer (e.g. ``peephole=True``,
            ``engine="generic"``).

    Shape:
        - input: ``(B, T)`` long token ids (batch first), or a PyG ``Data``/``Batch`` of chain
          graphs whose ``x`` holds ``(N,)`` token ids.
        - output: ``(logits, hidden)`` with logits ``(B, T, V)`` (``(N, V)`` for graphs) and the
          final state of the recurrent layer, to be passed back as ``hx`` for the next chunk.
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 128, hidden_size: int = 256,
                 num_layers: int = 1, cell: str = "lstm", dropout: float = 0.0,
                 tie_weights: bool = False, pad_index: int = 0, **rnn_kwargs: Any):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"LanguageModel: cell must be one of {sorted(CELLS)}, got {cell!r}")
        for name, value in (("vocab_size", vocab_size), ("embedding_dim", embedding_dim),
                            ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"LanguageModel: {name} must be a positive int, got {value!r}")
        if not 0 <= pad_index < vocab_size:
            raise ValueError(f"LanguageModel: pad_index {pad_index} out of range for vocab_size "
                             f"{vocab_size}")
        self.vocab_size, self.embedding_dim, self.hidden_size = (vocab_size, embedding_dim,
                                                                 hidden_size)
        self.num_layers, self.cell, self.dropout_p = num_layers, cell, float(dropout)
        self.tie_weights, self.pad_index = tie_weights, pad_index
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_index)
        self.rnn = CELLS[cell](embedding_dim, hidden_size, num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0, **rnn_kwargs)
        self.drop = nn.Dropout(dropout)
        out_dim = hidden_size
        self.proj = None
        if tie_weights and hidden_size != embedding_dim:
            self.proj = nn.Linear(hidden_size, embedding_dim)
            out_dim = embedding_dim
        self.decoder = nn.Linear(out_dim, vocab_size)
        # small uniform embeddings (as Zaremba et al.): the initial softmax is near uniform
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        with torch.no_grad():
            self.embedding.weight[pad_index].zero_()
        if tie_weights:
            self.decoder.weight = self.embedding.weight
        nn.init.zeros_(self.decoder.bias)

    def forward(self, input, hx=None) -> tuple[Tensor, Any]:
        if hasattr(input, "edge_index") and not isinstance(input, Tensor):  # PyG chain batch
            ids = input.x
            if ids is None or ids.dim() != 1 or ids.dtype != torch.long:
                raise ValueError(f"LanguageModel: a graph input needs x of shape (N,) holding long "
                                 f"token ids, got "
                                 f"{None if ids is None else (tuple(ids.shape), ids.dtype)}")
            graph = copy.copy(input)
            graph.x = self.drop(self.embedding(ids))
            out, hidden = self.rnn(graph, hx)
        else:
            if not isinstance(input, Tensor) or input.dim() != 2 or input.dtype != torch.long:
                got = (tuple(input.shape), input.dtype) if isinstance(input, Tensor) \
                    else type(input).__name__
                raise ValueError(f"LanguageModel: input must be a (B, T) long tensor of token ids "
                                 f"or a chain-graph batch, got {got}")
            out, hidden = self.rnn(self.drop(self.embedding(input)), hx)
        out = self.drop(out)
        if self.proj is not None:
            out = self.proj(out)
        return self.decoder(out), hidden

    def extra_repr(self) -> str:
        s = f"cell={self.cell!r}"
        if self.tie_weights:
            s += ", tie_weights=True"
        if self.dropout_p:
            s += f", dropout={self.dropout_p}"
        return s

    def config(self) -> dict:
        """The constructor arguments (JSON-serialisable), for a checkpoint's ``config``."""
        return {"vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "hidden_size": self.hidden_size, "num_layers": self.num_layers, "cell": self.cell,
                "dropout": self.dropout_p, "tie_weights": self.tie_weights,
                "pad_index": self.pad_index}


# ------------------------------------------------------------------------------------------------
# training and scoring

def lm_num_tokens(batch) -> int:
    """Number of predicted (non-pad) tokens of an :func:`lm_batch` batch: pass it as the
    Trainer's ``batch_size_fn`` so that epoch averages of :func:`lm_step`'s loss are the mean NLL
    per token over the whole split, whose ``exp`` is the corpus perplexity."""
    return int(batch[2].sum())


def lm_step(model: nn.Module, batch, pad_index: int = 0) -> Tensor:
    """Trainer step: mean negative log-likelihood per predicted token (nats).

    Args:
        model: a :class:`LanguageModel` (or anything mapping ``(B, T)`` ids to ``(B, T, V)`` logits
            as the first element of its output).
        batch: ``(inputs, targets, lengths)`` from :func:`~graphrnn.datasets.lm_batches.lm_batch`.

    Returns:
        ``loss = sum token_nll / n`` over the ``n`` non-pad targets (weight epoch averages by
        :func:`lm_num_tokens` to get the corpus mean; ``exp`` of it is the perplexity).
    """
    inputs, targets, _ = batch
    logits = model(inputs)[0]
    nll = token_nll(logits, targets, pad_index)
    n = (targets != pad_index).sum()
    return nll.sum() / n.clamp(min=1)


@torch.no_grad()
def perplexity(model: nn.Module, sequences: Sequence[Sequence[str]], vocab, batch_size: int = 64,
               device: torch.device | str | None = None) -> tuple[float, float, int]:
    """Token-weighted perplexity of ``model`` on ``sequences`` under the N-gram convention.

    Args:
        model: the language model (put in eval mode for the call).
        sequences: token lists (without ``<bos>``/``<eos>``); tokens outside ``vocab`` are
            ``<unk>``, as for :class:`~graphrnn.tasks.ngram.NGramLM` fitted with the same vocab.
        vocab: the :class:`~graphrnn.datasets.text.Vocab`.
        batch_size: sequences per forward pass (sorted by length to limit padding).

    Returns:
        ``(perplexity, total NLL in nats, number of predicted tokens)``; the count equals
        ``NGramLM.nll(sequences)[1]``.
    """
    if device is None:
        device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    total, count = 0.0, 0
    try:
        for start in range(0, len(order), batch_size):
            chunk = [sequences[i] for i in order[start:start + batch_size]]
            inputs, targets, _ = lm_batch(chunk, vocab)
            inputs, targets = inputs.to(device), targets.to(device)
            nll = token_nll(model(inputs)[0], targets, vocab.pad_index)
            total += float(nll.double().sum())
            count += int((targets != vocab.pad_index).sum())
    finally:
        model.train(was_training)
    return perplexity_from_nll(total, count), total, count


# ------------------------------------------------------------------------------------------------
# sampling

def _generator(seed: int | None, generator: torch.Generator | None) -> torch.Generator | None:
    if generator is not None and seed is not None:
        raise ValueError("pass seed or generator, not both")
    if seed is None:
        return generator
    g = torch.Generator()
    g.manual_seed(int(seed))
    return g


def sample_next(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
                mask: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
    """Draw one token per row from ``softmax(logits / temperature)``.

    Args:
        logits: ``(B, V)`` scores.
        temperature: > 0 flattens (> 1) or sharpens (< 1) the distribution; ``0`` takes the
            arg-max (greedy decoding).
        top_k: keep only the ``k`` highest-scoring allowed tokens (``None``: all).
        mask: ``(V,)`` or ``(B, V)`` bool, ``True`` where a token may be drawn; every row needs
            at least one allowed token.
        generator: the random generator (CPU) for reproducible draws.

    Returns:
        ``(B,)`` long token ids.
    """
    if logits.dim() != 2:
        raise ValueError(f"sample_next: logits must be (B, V), got {tuple(logits.shape)}")
    if temperature < 0:
        raise ValueError(f"sample_next: temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"sample_next: top_k must be a positive int or None, got {top_k}")
    logits = logits.float()
    if mask is not None:
        mask = mask.to(logits.device).expand_as(logits)
        if not mask.any(-1).all():
            rows = (~mask.any(-1)).nonzero().flatten().tolist()
            raise ValueError(f"sample_next: mask allows no token in rows {rows}")
        logits = logits.masked_fill(~mask, -math.inf)
    if temperature == 0:
        return logits.argmax(-1)
    logits = logits / temperature
    if top_k is not None and top_k < logits.size(-1):
        kth = logits.topk(top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs.cpu(), 1, generator=generator).flatten().to(logits.device)


def _encode_begin(begin: str | Sequence[str], vocab) -> list[int]:
    tokens = list(begin)
    missing = [t for t in tokens if t not in vocab]
    if missing:
        raise ValueError(f"begin {''.join(begin) if isinstance(begin, str) else begin!r}: token(s) "
                         f"{missing} not in the model's vocabulary of {len(vocab)}")
    return [vocab[t] for t in tokens]


@torch.no_grad()
def generate(model: nn.Module, vocab, begin: str | Sequence[str] = (), max_length: int = 200,
             temperature: float = 1.0, top_k: int | None = None, num_samples: int = 1,
             seed: int | None = None, generator: torch.Generator | None = None,
             allow_unk: bool = False) -> list[list[str]]:
    """Sample continuations of ``begin`` until ``<eos>`` or ``max_length`` tokens.

    The model reads ``<bos> begin`` and then samples one token at a time, feeding each back with
    the recurrent state carried over (so generation costs one step per token).

    Args:
        model: a :class:`LanguageModel`.
        vocab: its vocabulary.
        begin: the first tokens (a string is a list of characters; for a word model pass a token
            list); each must be in the vocabulary.
        max_length: most tokens per sample, ``begin`` included.
        temperature, top_k: see :func:`sample_next`.
        num_samples: samples drawn in parallel.
        seed / generator: for reproducible sampling (one of them).
        allow_unk: whether ``<unk>`` may be drawn (default: no). ``<pad>`` and ``<bos>`` never are.

    Returns:
        ``num_samples`` token lists, each starting with ``begin``, without specials.
    """
    gen = _generator(seed, generator)
    device = next(model.parameters()).device
    prefix = _encode_begin(begin, vocab)
    was_training = model.training
    model.eval()
    try:
        mask = torch.ones(len(vocab), dtype=torch.bool, device=device)
        mask[vocab.pad_index] = mask[vocab.bos_index] = False
        if not allow_unk:
            mask[vocab.unk_index] = False
        start = torch.tensor([[vocab.bos_index] + prefix], device=device).expand(num_samples, -1)
        logits, hx = model(start.contiguous())
        logits = logits[:, -1]
        out = [list(prefix) for _ in range(num_samples)]
        done = torch.zeros(num_samples, dtype=torch.bool)
        for _ in range(max_length - len(prefix)):
            nxt = sample_next(logits, temperature, top_k, mask, gen)
            for i, tok in enumerate(nxt.tolist()):
                if not done[i]:
                    if tok == vocab.eos_index:
                        done[i] = True
                    else:
                        out[i].append(tok)
            if bool(done.all()):
                break
            logits, hx = model(nxt.view(-1, 1), hx)
            logits = logits[:, -1]
    finally:
        model.train(was_training)
    return [[vocab.lookup_token(t) for t in seq] for seq in out]


_IDEOGRAPH_RE = re.compile("^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]$")


def ideograph_mask(vocab) -> Tensor:
    """``(V,)`` bool: which tokens of ``vocab`` are a single CJK ideograph."""
    return torch.tensor([bool(_IDEOGRAPH_RE.match(t)) for t in vocab.to_list()], dtype=torch.bool)


@torch.no_grad()
def generate_poems(model: nn.Module, vocab, begin: str = "", line_length: int = 5,
                   num_lines: int = 4, temperature: float = 1.0, top_k: int | None = None,
                   num_samples: int = 1, seed: int | None = None,
                   generator: torch.Generator | None = None, comma: str = "，",
                   period: str = "。") -> list[str]:
    """Sample regulated-verse poems, well formed by construction.

    A poem is ``num_lines`` lines of ``line_length`` characters; line ``i`` (1-based) ends with
    ``comma`` when ``i`` is odd and ``period`` when even. The sampler walks that template: at a
    character slot only single-ideograph tokens may be drawn (punctuation, ``<unk>``, ``<eos>`` and
    other symbols are masked out), at a line end the mark is forced (fed to the model, not
    sampled). ``begin`` fills the first character slots, so ``begin="日"`` starts the poem with 日;
    a ``begin`` longer than a line runs on into the next lines.

    Args:
        model, vocab: a character-level :class:`LanguageModel` and its vocabulary.
        begin: leading characters (ideographs in the vocabulary; whitespace and the two marks are
            ignored, so a begin can be given as ``"白日依山尽，黄河"``).
        line_length: characters per line (5 or 7 for regulated verse, any positive int works).
        num_lines: lines per poem (4 or 8 for regulated verse).
        temperature, top_k: see :func:`sample_next`.
        num_samples: poems drawn in parallel.
        seed / generator: for reproducible sampling.
        comma, period: the marks (must be in the vocabulary).

    Returns:
        ``num_samples`` poem strings, e.g. ``"日照香炉山，...。"``; each passes
        ``check_form(poem, line_length, num_lines)``.
    """
    if line_length < 1 or num_lines < 1:
        raise ValueError(f"generate_poems: line_length and num_lines must be positive, got "
                         f"{line_length} and {num_lines}")
    for mark in (comma, period):
        if mark not in vocab:
            raise ValueError(f"generate_poems: the mark {mark!r} is not in the vocabulary")
    chars = [c for c in begin if not c.isspace() and c not in (comma, period)]
    if len(chars) > line_length * num_lines:
        raise ValueError(f"generate_poems: begin {begin!r} has {len(chars)} characters, more than "
                         f"the {line_length * num_lines} of a {line_length}x{num_lines} poem")
    prefix = _encode_begin(chars, vocab)
    allowed = ideograph_mask(vocab)
    bad = [c for c, i in zip(chars, prefix) if not allowed[i]]
    if bad:
        raise ValueError(f"generate_poems: begin {begin!r} holds non-ideographs {bad}")
    gen = _generator(seed, generator)
    device = next(model.parameters()).device
    allowed = allowed.to(device)
    marks = (vocab[comma], vocab[period])
    was_training = model.training
    model.eval()
    try:
        tok = torch.full((num_samples, 1), vocab.bos_index, dtype=torch.long, device=device)
        hx = None
        out = torch.empty(num_samples, num_lines * (line_length + 1), dtype=torch.long)
        slot = 0  # character slots filled so far (begin included)
        pos = 0
        for line in range(num_lines):
            for _ in range(line_length + 1):
                logits, hx = model(tok, hx)
                if pos % (line_length + 1) == line_length:  # line end: force the mark
                    nxt = torch.full((num_samples,), marks[line % 2], dtype=torch.long,
                                     device=device)
                elif slot < len(prefix):
                    nxt = torch.full((num_samples,), prefix[slot], dtype=torch.long, device=device)
                    slot += 1
                else:
                    nxt = sample_next(logits[:, -1], temperature, top_k, allowed, gen)
                    slot += 1
                out[:, pos] = nxt.cpu()
                tok = nxt.view(-1, 1)
                pos += 1
    finally:
        model.train(was_training)
    return ["".join(vocab.lookup_token(i) for i in row) for row in out.tolist()]
