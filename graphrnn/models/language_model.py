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

Regularisers (all off by default, each the identity in evaluation mode): dropout on the
embeddings, between layers and before the softmax (Zaremba et al.), optionally *locked* (one mask
per sequence, the same at every step; Gal & Ghahramani 2016), embedding dropout (whole word types;
ibid.), and DropConnect on the recurrent matrices (``weight_dropout``, the weight-dropped LSTM of
Merity et al. 2018, "Regularizing and Optimizing LSTM Language Models", arXiv:1708.02182).
``init_range=r`` draws every weight from ``U(-r, r)`` as those papers do. ``output_ids`` restricts
the softmax to the tokens that can be targets (:func:`predictable_ids`: not ``<pad>``/``<bos>``).

Two ways of scoring, on the same tokens: a sequence of ``n`` tokens is ``n + 1`` predictions
(``s_1 .. s_n`` and ``<eos>``), the perplexity ``exp(sum NLL / predicted tokens)``, exactly the
tokens :class:`~graphrnn.tasks.ngram.NGramLM` scores.

* Sentence at a time (:func:`lm_step`, :func:`sentence_perplexity`; batches from
  :func:`~graphrnn.datasets.lm_batches.lm_batch`): each sequence from a zero state after
  ``<bos>``. For models trained on sentences (the poems application).
* The stream (:mod:`graphrnn.models.stream_lm`): the corpus as one ``<eos>``-separated stream,
  truncated BPTT with the state carried across windows, scored over the whole stream with the
  state carried across sentences, the standard convention of the language-modelling literature.

Sampling draws from ``softmax(logits / temperature)`` restricted to the ``top_k`` most likely tokens
(Fan et al. 2018), with an optional mask of allowed tokens per step; a ``seed`` or a
``torch.Generator`` makes it reproducible. :func:`generate_poems` imposes regulated-verse form
(``line_length`` ideographs, then ``，`` after odd and ``。`` after even lines) by masking the
logits, so every poem it returns passes :func:`graphrnn.datasets.poems.check_form`.

Size: over 400 lines: the model with its regularisers, its sentence-level step and perplexity and
the samplers (free and form-constrained) are one piece that the poems and lm applications read;
the stream training and scoring live in :mod:`graphrnn.models.stream_lm`.
"""
from __future__ import annotations

import copy
import math
import re
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..datasets.lm_batches import lm_batch
from ..nn.regularizers import LockedDropout, embedding_dropout
from ..nn.rnn import GRU, LSTM, RNN
from ..tasks.ngram import perplexity_from_nll, token_nll

__all__ = ["LanguageModel", "predictable_ids", "lm_step", "lm_num_tokens",
           "sentence_perplexity", "perplexity", "sample_next", "generate", "generate_poems",
           "ideograph_mask"]

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
IGNORE_INDEX = -100  # F.cross_entropy's default ignore_index


class LanguageModel(nn.Module):
    r"""Embedding -> recurrent chain -> softmax over the vocabulary (or the predictable part of it).

    Args:
        vocab_size (int): ``V``, number of tokens (specials included).
        embedding_dim (int): ``D``. (default: ``128``)
        hidden_size (int): ``H``. (default: ``256``)
        num_layers (int): stacked recurrent layers. (default: ``1``)
        cell (str): ``"lstm"``, ``"gru"`` or ``"rnn"`` (Elman's SRN, tanh). (default: ``"lstm"``)
        dropout (float): dropout between layers, and on the embeddings and before the softmax
            unless ``input_dropout`` / ``output_dropout`` say otherwise (Zaremba et al. 2014:
            non-recurrent connections only). (default: ``0.0``)
        tie_weights (bool): share the embedding matrix with the output layer. (default: ``False``)
        pad_index (int): the padding token; its embedding is kept at zero. (default: ``0``)
        input_dropout (float, optional): dropout on the embeddings. (default: ``dropout``)
        output_dropout (float, optional): dropout on the last layer's outputs, before the
            softmax. (default: ``dropout``)
        locked_dropout (bool): input and output dropout draw one mask per sequence, the same at
            every time step (variational / locked dropout,
            :class:`~graphrnn.nn.regularizers.LockedDropout`). (default: ``False``)
        embedding_dropout (float): drop whole word types (rows of the embedding matrix),
            :func:`~graphrnn.nn.regularizers.embedding_dropout`. (default: ``0.0``)
        weight_dropout (float): DropConnect on the recurrent matrices, one mask per forward call
            (the weight-dropped LSTM of Merity et al. 2018). (default: ``0.0``)
        init_range (float, optional): ``r``: every weight ``U(-r, r)`` and the output bias 0, as
            Zaremba et al. (2014, ``r = 0.1`` for the small model) and Merity et al. (2018);
            ``None`` keeps PyTorch's initialisation of the recurrent and output layers and
            ``U(-0.1, 0.1)`` embeddings. (default: ``None``)
        output_ids (sequence of int, optional): the token ids the softmax ranges over, e.g. every
            id but ``<pad>`` and ``<bos>``, which never are targets; logit ``k`` is token
            ``output_ids[k]``. ``None``: all ``V``. (default: ``None``)
        **rnn_kwargs: passed to the :mod:`graphrnn.nn` layer (e.g. ``peephole=True``,
            ``engine="generic"``).

    Shape:
        - input: ``(B, T)`` long token ids (batch first), or a PyG ``Data``/``Batch`` of chain
          graphs whose ``x`` holds ``(N,)`` token ids.
        - output: ``(logits, hidden)`` with logits ``(B, T, V_out)`` (``(N, V_out)`` for graphs;
          ``V_out = len(output_ids)`` or ``V``) and the final state of the recurrent layer, to be
          passed back as ``hx`` for the next chunk. :meth:`output_targets` maps token-id targets
          to logit positions, :meth:`vocab_logits` logits back to ``V`` columns.
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 128, hidden_size: int = 256,
                 num_layers: int = 1, cell: str = "lstm", dropout: float = 0.0,
                 tie_weights: bool = False, pad_index: int = 0, *,
                 input_dropout: float | None = None, output_dropout: float | None = None,
                 locked_dropout: bool = False, embedding_dropout: float = 0.0,
                 weight_dropout: float = 0.0, init_range: float | None = None,
                 output_ids: Sequence[int] | None = None, **rnn_kwargs: Any):
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
        input_dropout = dropout if input_dropout is None else input_dropout
        output_dropout = dropout if output_dropout is None else output_dropout
        for name, value in (("dropout", dropout), ("input_dropout", input_dropout),
                            ("output_dropout", output_dropout),
                            ("embedding_dropout", embedding_dropout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not 0 <= value < 1:
                raise ValueError(f"LanguageModel: {name} must be a number in [0, 1), got "
                                 f"{value!r}")
        if init_range is not None and not init_range > 0:
            raise ValueError(f"LanguageModel: init_range must be > 0 or None, got {init_range!r}")
        if output_ids is not None:
            output_ids = [int(i) for i in output_ids]
            if not output_ids or len(set(output_ids)) != len(output_ids) \
                    or not all(0 <= i < vocab_size for i in output_ids):
                raise ValueError(f"LanguageModel: output_ids must be distinct ids in [0, "
                                 f"{vocab_size}), at least one, got {len(output_ids)} ids")
        self.vocab_size, self.embedding_dim, self.hidden_size = (vocab_size, embedding_dim,
                                                                 hidden_size)
        self.num_layers, self.cell, self.dropout_p = num_layers, cell, float(dropout)
        self.tie_weights, self.pad_index = tie_weights, pad_index
        self.input_dropout, self.output_dropout = float(input_dropout), float(output_dropout)
        self.locked_dropout, self.embedding_dropout = locked_dropout, float(embedding_dropout)
        self.weight_dropout, self.init_range = float(weight_dropout), init_range
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_index)
        self.rnn = CELLS[cell](embedding_dim, hidden_size, num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0,
                               weight_dropout=weight_dropout, **rnn_kwargs)
        drop = (lambda p: LockedDropout(p)) if locked_dropout else nn.Dropout  # noqa: E731
        self.input_drop, self.output_drop = drop(self.input_dropout), drop(self.output_dropout)
        out_dim = hidden_size
        self.proj = None
        if tie_weights and hidden_size != embedding_dim:
            self.proj = nn.Linear(hidden_size, embedding_dim)
            out_dim = embedding_dim
        num_out = vocab_size if output_ids is None else len(output_ids)
        self.decoder = nn.Linear(out_dim, num_out)
        ids = index = None  # logit k is token output_ids[k]; token t is logit target_index[t]
        if output_ids is not None:
            ids = torch.tensor(output_ids)
            index = torch.full((vocab_size,), IGNORE_INDEX, dtype=torch.long)
            index[ids] = torch.arange(len(output_ids))
        self.register_buffer("output_ids", ids, persistent=False)
        self.register_buffer("target_index", index, persistent=False)
        if init_range is not None:  # every weight U(-r, r) (Zaremba et al. 2014)
            for weight in self.parameters():
                nn.init.uniform_(weight, -init_range, init_range)
        else:  # small uniform embeddings (as Zaremba et al.): the initial softmax is near uniform
            nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        with torch.no_grad():
            self.embedding.weight[pad_index].zero_()
        if tie_weights:
            self.decoder.weight = self.embedding.weight
        nn.init.zeros_(self.decoder.bias)

    def _dropped_embedding(self, ids: Tensor) -> Tensor:
        if self.embedding_dropout and self.training:
            return embedding_dropout(self.embedding, ids, self.embedding_dropout)
        return self.embedding(ids)

    def _drop(self, module: nn.Module, x: Tensor, batch: Tensor | None) -> Tensor:
        if self.locked_dropout and batch is not None:
            return module(x, batch)
        return module(x)

    def forward(self, input, hx=None) -> tuple[Tensor, Any]:
        if hasattr(input, "edge_index") and not isinstance(input, Tensor):  # PyG chain batch
            ids = input.x
            if ids is None or ids.dim() != 1 or ids.dtype != torch.long:
                raise ValueError(f"LanguageModel: a graph input needs x of shape (N,) holding long "
                                 f"token ids, got "
                                 f"{None if ids is None else (tuple(ids.shape), ids.dtype)}")
            batch = getattr(input, "batch", None)
            if self.locked_dropout and batch is None:
                batch = torch.zeros_like(ids)  # a Data without batch: one chain
            graph = copy.copy(input)
            graph.x = self._drop(self.input_drop, self._dropped_embedding(ids), batch)
            out, hidden = self.rnn(graph, hx)
        else:
            if not isinstance(input, Tensor) or input.dim() != 2 or input.dtype != torch.long:
                got = (tuple(input.shape), input.dtype) if isinstance(input, Tensor) \
                    else type(input).__name__
                raise ValueError(f"LanguageModel: input must be a (B, T) long tensor of token ids "
                                 f"or a chain-graph batch, got {got}")
            batch = None
            out, hidden = self.rnn(self.input_drop(self._dropped_embedding(input)), hx)
        out = self._drop(self.output_drop, out, batch)
        if self.proj is not None:
            out = self.proj(out)
        weight = self.decoder.weight
        if self.tie_weights and self.output_ids is not None:  # the rows of the output tokens
            weight = weight.index_select(0, self.output_ids)
        return F.linear(out, weight, self.decoder.bias), hidden

    def output_targets(self, targets: Tensor) -> Tensor:
        """Token-id targets as logit positions (ids outside ``output_ids``, e.g. ``<pad>``,
        become ``-100``, cross-entropy's ``ignore_index``); the ids themselves when the softmax
        covers the whole vocabulary."""
        return targets if self.target_index is None else self.target_index[targets]

    def vocab_logits(self, logits: Tensor) -> Tensor:
        """``(..., V_out)`` logits as ``(..., V)`` columns indexed by token id, ``-inf`` for ids
        outside ``output_ids`` (what a sampler with vocabulary masks reads)."""
        if self.output_ids is None:
            return logits
        full = logits.new_full((*logits.shape[:-1], self.vocab_size), -math.inf)
        return full.index_copy_(-1, self.output_ids, logits)

    def extra_repr(self) -> str:
        s = f"cell={self.cell!r}"
        if self.tie_weights:
            s += ", tie_weights=True"
        if self.dropout_p:
            s += f", dropout={self.dropout_p}"
        for name, default in (("input_dropout", self.dropout_p),
                              ("output_dropout", self.dropout_p), ("locked_dropout", False),
                              ("embedding_dropout", 0.0), ("weight_dropout", 0.0),
                              ("init_range", None)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        if self.output_ids is not None:
            s += f", outputs={len(self.output_ids)}"
        return s

    def config(self) -> dict:
        """The constructor arguments (JSON-serialisable), for a checkpoint's ``config``."""
        return {"vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "hidden_size": self.hidden_size, "num_layers": self.num_layers, "cell": self.cell,
                "dropout": self.dropout_p, "tie_weights": self.tie_weights,
                "pad_index": self.pad_index, "input_dropout": self.input_dropout,
                "output_dropout": self.output_dropout, "locked_dropout": self.locked_dropout,
                "embedding_dropout": self.embedding_dropout,
                "weight_dropout": self.weight_dropout, "init_range": self.init_range,
                "output_ids": None if self.output_ids is None else self.output_ids.tolist()}


def predictable_ids(vocab) -> list[int]:
    """Every token id of ``vocab`` but ``<pad>`` and ``<bos>`` (those it has), which are never
    a target: the ``output_ids`` of a :class:`LanguageModel` whose softmax spends no mass on
    them."""
    skip = {tok for tok in ("<pad>", "<bos>") if tok in vocab}
    return [i for i, tok in enumerate(vocab.to_list()) if tok not in skip]


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
    nll = _token_nll(model, model(inputs)[0], targets, pad_index)
    n = (targets != pad_index).sum()
    return nll.sum() / n.clamp(min=1)


def _token_nll(model: nn.Module, logits: Tensor, targets: Tensor, pad_index: int) -> Tensor:
    """Per-token NLL, 0 at padding; targets mapped to logit positions when the model's softmax
    covers only some ids (``output_ids``)."""
    if getattr(model, "target_index", None) is not None:
        return token_nll(logits, model.output_targets(targets), IGNORE_INDEX)
    return token_nll(logits, targets, pad_index)


@torch.no_grad()
def sentence_perplexity(model: nn.Module, sequences: Sequence[Sequence[str]], vocab,
                        batch_size: int = 64, device: torch.device | str | None = None
                        ) -> tuple[float, float, int]:
    """Perplexity of ``model`` used one sentence at a time: each sequence read from a fresh
    (zero) state after ``<bos>``, its tokens and ``<eos>`` predicted.

    This is the right number for a model trained that way (the poems application: one poem per
    row of a batch, each starting at ``<bos>``), and it scores exactly the tokens
    :class:`~graphrnn.tasks.ngram.NGramLM` scores. It is *not* the standard perplexity of a model
    trained on a stream with carried state: such a model never saw ``<bos>`` or a zero state
    mid-corpus, and is scored, as in the literature, on the whole stream with its state carried
    across sentences by :func:`graphrnn.models.stream_lm.stream_perplexity` (same tokens, same
    count; on a stream-trained CoNLL-2000 model this function gave 155.5 where the stream
    perplexity was 113.1).

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
            nll = _token_nll(model, model(inputs)[0], targets, vocab.pad_index)
            total += float(nll.double().sum())
            count += int((targets != vocab.pad_index).sum())
    finally:
        model.train(was_training)
    return perplexity_from_nll(total, count), total, count


#: The old name of :func:`sentence_perplexity` (the poems application reads it).
perplexity = sentence_perplexity


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


def _vocab_logits(model: nn.Module, logits: Tensor) -> Tensor:
    convert = getattr(model, "vocab_logits", None)
    return logits if convert is None else convert(logits)


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
             allow_unk: bool = False, start: int | None = None) -> list[list[str]]:
    """Sample continuations of ``begin`` until ``<eos>`` or ``max_length`` tokens.

    The model reads ``<bos> begin`` (``start`` instead of ``<bos>`` when given: a model trained
    on an ``<eos>``-separated stream reads ``<eos>``) and then samples one token at a time,
    feeding each back with the recurrent state carried over (so generation costs one step per
    token).

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
        start: the token id read first. (default: ``vocab.bos_index``)

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
        first = vocab.bos_index if start is None else int(start)
        ids = torch.tensor([[first] + prefix], device=device).expand(num_samples, -1)
        logits, hx = model(ids.contiguous())
        logits = _vocab_logits(model, logits[:, -1])
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
            logits = _vocab_logits(model, logits[:, -1])
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
                    nxt = sample_next(_vocab_logits(model, logits[:, -1]), temperature, top_k,
                                      allowed, gen)
                    slot += 1
                out[:, pos] = nxt.cpu()
                tok = nxt.view(-1, 1)
                pos += 1
    finally:
        model.train(was_training)
    return ["".join(vocab.lookup_token(i) for i in row) for row in out.tolist()]
