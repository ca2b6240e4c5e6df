"""Sentences in: tokenisation, detokenisation and vocabularies.

Two levels of tokens:

* ``"char"``: every character is a token, spaces and newlines included, so
  ``"".join(tokenize(s, "char")) == s`` for any string (the level of Karpathy's char-rnn and of the
  Tang-poem exercise).
* ``"word"``: English-style words, numbers, clitics (``n't``, ``'s``) and punctuation; every CJK
  ideograph is a word of its own. nltk's Treebank tokenizer with its Punkt sentence splitter is used
  when nltk's ``punkt_tab`` model is installed; otherwise a rule-based tokenizer that needs no
  download takes over (the choice is detected, never an error).

A :class:`Vocab` maps tokens to indices with four special tokens first: ``<pad>`` = 0,
``<unk>`` = 1, ``<bos>`` = 2, ``<eos>`` = 3. It is a plain list of strings (:meth:`Vocab.to_list`),
so it travels inside a checkpoint, and it saves to / loads from JSON.
"""
from __future__ import annotations

import json
import os
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import torch

from ..io import atomic_write_bytes, read_json

__all__ = [
    "PAD", "UNK", "BOS", "EOS", "SPECIALS", "nltk_punkt_available", "tokenize", "detokenize",
    "Vocab", "pad_sequences", ]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)

# ----------------------------------------------------------------------------------------------
# tokenisation

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_CJK_PUNCT = "\u3000-\u303f\uff00-\uffef"  # 、。「」 and full-width forms (，！？：；（）)
_WORD_RE = re.compile(
    rf"[{_CJK}]"                                   # one ideograph is one word
    rf"|[{_CJK_PUNCT}]"                            # full-width punctuation
    r"|(?i:[^\W\d_]+(?=n't\b))"                    # "do" of "don't"
    r"|(?i:n't\b)"                                 # the clitic itself
    r"|(?i:'(?:s|re|ve|ll|d|m)\b)"                 # 's 're 've 'll 'd 'm
    r"|\d+(?:[.,:/]\d+)*"                          # 3.5, 1,000, 12:30, 1/2
    r"|[^\W\d_]+(?:(?:-|'(?!(?i:s|re|ve|ll|d|m)\b))[^\W\d_]+)*"  # words, well-known, o'clock
    r"|\.\.\.|--"                                  # ellipsis and dash
    r"|\S"                                         # any other single symbol
)
# no space before these (closing punctuation and clitics), none after the openers
_NO_SPACE_BEFORE = {",", ".", "!", "?", ";", ":", "%", ")", "]", "}", "...", "n't", "'s", "'re",
                    "'ve", "'ll", "'d", "'m"}
_NO_SPACE_AFTER = {"(", "[", "{", "$", "#"}
_CJK_OR_PUNCT_RE = re.compile(rf"^[{_CJK}{_CJK_PUNCT}]$")


@lru_cache(maxsize=None)
def nltk_punkt_available() -> bool:
    """Whether nltk's Punkt sentence model (``punkt_tab``) is installed, so that
    :func:`nltk.word_tokenize` works without a download. Detected once per process."""
    try:
        import nltk
        nltk.data.find("tokenizers/punkt_tab")
        return True
    except (ImportError, LookupError, OSError):
        return False


def _resolve_backend(backend: str) -> str:
    if backend not in ("auto", "nltk", "rule"):
        raise ValueError(f"tokenize: backend must be 'auto', 'nltk' or 'rule', got {backend!r}")
    if backend == "auto":
        return "nltk" if nltk_punkt_available() else "rule"
    return backend


def tokenize(text: str, level: str = "char", *, backend: str = "auto",
             language: str = "english") -> list[str]:
    """Split ``text`` into tokens.

    Args:
        text: the string.
        level: ``"char"`` (every character, whitespace included) or ``"word"``.
        backend: for ``level="word"``: ``"auto"`` (nltk when its Punkt model is installed, else the
            rules), ``"nltk"`` (nltk's Treebank tokenizer; without the Punkt model it runs line by
            line with a warning instead of failing) or ``"rule"`` (the built-in rules, no download).
        language: the Punkt model's language (nltk backend only).

    Returns:
        the list of tokens. For ``level="char"``, ``"".join(tokens) == text``.
    """
    if level == "char":
        return list(text)
    if level != "word":
        raise ValueError(f"tokenize: level must be 'char' or 'word', got {level!r}")
    if _resolve_backend(backend) == "rule":
        return _WORD_RE.findall(text)
    import nltk
    if nltk_punkt_available():
        return nltk.word_tokenize(text, language=language)
    warnings.warn("nltk's punkt_tab model is not installed: tokenising without sentence splitting "
                  "(run nltk.download('punkt_tab') for the full tokenizer)", stacklevel=2)
    return nltk.word_tokenize(text, language=language, preserve_line=True)


def detokenize(tokens: Sequence[str], level: str = "char", *, backend: str = "auto") -> str:
    """Join ``tokens`` back into text: the inverse of :func:`tokenize` on ordinarily spaced text.

    ``level="char"`` concatenates. ``level="word"`` joins with single spaces, then removes the space
    before closing punctuation and clitics (``, . ! ? ; : ) n't 's``), after openers (``( [ $``),
    between CJK characters and around full-width punctuation; straight double quotes alternate
    between opening and closing. nltk-produced tokens (backend ``"nltk"``, or ``"auto"`` with Punkt
    installed) go through nltk's Treebank detokenizer, which also undoes its ```` ``/'' ```` quotes.
    """
    if level == "char":
        return "".join(tokens)
    if level != "word":
        raise ValueError(f"detokenize: level must be 'char' or 'word', got {level!r}")
    if _resolve_backend(backend) == "nltk":
        from nltk.tokenize.treebank import TreebankWordDetokenizer
        return TreebankWordDetokenizer().detokenize(list(tokens))
    out: list[str] = []
    open_quote = False
    prev = None
    for tok in tokens:
        space = prev is not None
        if prev is not None:
            if tok in _NO_SPACE_BEFORE or tok.lower() in _NO_SPACE_BEFORE or \
                    prev in _NO_SPACE_AFTER:
                space = False
            elif _CJK_OR_PUNCT_RE.match(tok) or _CJK_OR_PUNCT_RE.match(prev):
                space = False
            elif prev == '"' and open_quote:
                space = False
            elif tok == '"' and open_quote:
                space = False
        if tok == '"':
            open_quote = not open_quote
        if space:
            out.append(" ")
        out.append(tok)
        prev = tok
    return "".join(out)


# ----------------------------------------------------------------------------------------------
# vocabulary

class Vocab:
    """A bijection between tokens and indices ``0 .. len-1``, specials first.

    With the default specials, ``<pad>`` = 0, ``<unk>`` = 1, ``<bos>`` = 2, ``<eos>`` = 3, and
    unknown tokens map to ``<unk>``. Build one from token streams with :meth:`build`; it is fully
    described by :meth:`to_list` (the tokens in index order) plus the specials, which
    :meth:`state_dict` holds, so a checkpoint can carry it.

    Args:
        tokens: the regular tokens in index order (duplicates and specials are rejected).
        specials: the special tokens, given indices ``0 .. len(specials)-1`` in this order. Those
            named ``<pad>``, ``<unk>``, ``<bos>``, ``<eos>`` give :attr:`pad_index` etc.; without
            ``<unk>``, looking up an unknown token raises ``KeyError``.
    """

    FORMAT = "graphrnn.vocab"
    VERSION = 1

    def __init__(self, tokens: Iterable[str] = (), specials: Sequence[str] = SPECIALS):
        self.specials = tuple(specials)
        self.counts: Counter[str] | None = None  # token counts, when built by :meth:`build`
        self._itos: list[str] = list(self.specials)
        self._stoi: dict[str, int] = {}
        for i, tok in enumerate(self._itos):
            if tok in self._stoi:
                raise ValueError(f"Vocab: special token {tok!r} given twice")
            self._stoi[tok] = i
        for tok in tokens:
            if not isinstance(tok, str):
                raise TypeError(f"Vocab: tokens must be str, got {type(tok).__name__} {tok!r}")
            if tok in self._stoi:
                raise ValueError(f"Vocab: token {tok!r} appears twice (index {self._stoi[tok]} and "
                                 f"{len(self._itos)})")
            self._stoi[tok] = len(self._itos)
            self._itos.append(tok)

    @classmethod
    def build(cls, streams: Iterable[Iterable[str]], min_freq: int = 1, max_size: int | None = None,
              specials: Sequence[str] = SPECIALS) -> Vocab:
        """Count tokens over ``streams`` (e.g. one token list per sentence), keep the frequent ones.

        Tokens are ordered by decreasing count, ties by the token string, so the result does not
        depend on the order of the streams.

        Args:
            streams: iterables of tokens.
            min_freq: keep tokens seen at least this often (default 1).
            max_size: keep at most this many regular tokens, specials not counted (default: all).
        """
        if min_freq < 1:
            raise ValueError(f"Vocab.build: min_freq must be >= 1, got {min_freq}")
        if max_size is not None and max_size < 0:
            raise ValueError(f"Vocab.build: max_size must be >= 0 or None, got {max_size}")
        counts: Counter[str] = Counter()
        for stream in streams:
            if isinstance(stream, str):  # a string is a stream of characters: make that explicit
                raise TypeError("Vocab.build: streams must be iterables of tokens; got a str "
                                "(wrap it: [list(text)] or [tokenize(text)])")
            counts.update(stream)
        special_set = set(specials)
        kept = sorted((t for t, c in counts.items() if c >= min_freq and t not in special_set),
                      key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[:max_size]
        vocab = cls(kept, specials)
        vocab.counts = counts
        return vocab

    # --- lookup --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token: str) -> bool:
        return token in self._stoi

    def __iter__(self):
        return iter(self._itos)

    def __getitem__(self, token: str) -> int:
        """Index of ``token``; unknown ones give :attr:`unk_index` (KeyError if no ``<unk>``)."""
        i = self._stoi.get(token)
        if i is not None:
            return i
        if UNK in self._stoi:
            return self._stoi[UNK]
        raise KeyError(f"Vocab: token {token!r} is not in the vocabulary and there is no {UNK}")

    def lookup_token(self, index: int) -> str:
        if not 0 <= index < len(self._itos):
            raise IndexError(f"Vocab: index {index} out of range for a vocabulary of {len(self)}")
        return self._itos[index]

    def _special_index(self, tok: str) -> int:
        if tok not in self._stoi:
            raise AttributeError(f"Vocab: no {tok} token (specials are {self.specials})")
        return self._stoi[tok]

    @property
    def pad_index(self) -> int:
        return self._special_index(PAD)

    @property
    def unk_index(self) -> int:
        return self._special_index(UNK)

    @property
    def bos_index(self) -> int:
        return self._special_index(BOS)

    @property
    def eos_index(self) -> int:
        return self._special_index(EOS)

    # --- encode / decode -----------------------------------------------------------------------
    def encode(self, tokens: Iterable[str], add_bos: bool = False, add_eos: bool = False
               ) -> list[int]:
        """Indices of ``tokens`` (unknown -> ``<unk>``), optionally between ``<bos>`` and
        ``<eos>``."""
        if isinstance(tokens, str):
            tokens = list(tokens)
        ids = [self[t] for t in tokens]
        if add_bos:
            ids.insert(0, self.bos_index)
        if add_eos:
            ids.append(self.eos_index)
        return ids

    def decode(self, ids: Iterable[int] | torch.Tensor, strip_specials: bool = True,
               stop_at_eos: bool = True) -> list[str]:
        """Tokens of ``ids``.

        Args:
            ids: indices (a list or a 1-D tensor).
            strip_specials: drop ``<pad>``, ``<bos>``, ``<eos>`` (``<unk>`` is kept: it stands for a
                real token).
            stop_at_eos: stop at the first ``<eos>`` (what a sampler wants).
        """
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"Vocab.decode: expected a 1-D tensor of indices, got shape "
                                 f"{tuple(ids.shape)}")
            ids = ids.tolist()
        eos = self._stoi.get(EOS)
        dropped = {self._stoi[t] for t in (PAD, BOS, EOS) if t in self._stoi}
        out = []
        for i in ids:
            i = int(i)
            if stop_at_eos and i == eos:
                break
            if strip_specials and i in dropped:
                continue
            out.append(self.lookup_token(i))
        return out

    # --- persistence ---------------------------------------------------------------------------
    def to_list(self) -> list[str]:
        """All tokens in index order, specials included."""
        return list(self._itos)

    @classmethod
    def from_list(cls, tokens: Sequence[str], specials: Sequence[str] = SPECIALS) -> Vocab:
        """Inverse of :meth:`to_list`: ``tokens`` must start with ``specials``."""
        n = len(specials)
        if list(tokens[:n]) != list(specials):
            raise ValueError(f"Vocab.from_list: the list must start with the specials "
                             f"{list(specials)}, got {list(tokens[:n])}")
        return cls(tokens[n:], specials)

    def state_dict(self) -> dict:
        """A JSON-serialisable description, for a checkpoint."""
        return {"format": self.FORMAT, "version": self.VERSION, "specials": list(self.specials),
                "tokens": self.to_list()}

    @classmethod
    def from_state_dict(cls, state: dict, source: str = "state") -> Vocab:
        for key in ("specials", "tokens"):
            if key not in state:
                raise ValueError(f"{source}: not a vocabulary, missing field {key!r} "
                                 f"(has {sorted(state)})")
        if state.get("format", cls.FORMAT) != cls.FORMAT:
            raise ValueError(f"{source}: format is {state['format']!r}, expected {cls.FORMAT!r}")
        return cls.from_list(state["tokens"], state["specials"])

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON (UTF-8), through a temporary file renamed into place."""
        data = json.dumps(self.state_dict(), ensure_ascii=False, indent=0).encode("utf-8")
        atomic_write_bytes(path, data)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocab:
        """Read a vocabulary written by :meth:`save`."""
        state = read_json(path)
        if not isinstance(state, dict):
            raise ValueError(f"{path}: expected a JSON object, got {type(state).__name__}")
        return cls.from_state_dict(state, source=str(path))

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocab) and self._itos == other._itos and \
            self.specials == other.specials

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self._itos[len(self.specials):len(self.specials) + 5])
        return f"Vocab(size={len(self)}, specials={list(self.specials)}, tokens=[{head}, ...])"


def pad_sequences(sequences: Sequence[Sequence[int]], pad_index: int = 0,
                  batch_first: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack index lists of different lengths into one padded tensor.

    Returns:
        ``(padded, lengths)``: ``padded`` is ``(B, T)`` (``(T, B)`` if not ``batch_first``) of dtype
        long, filled with ``pad_index`` past each length; ``lengths`` is ``(B,)``.
    """
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    T = int(lengths.max()) if len(sequences) else 0
    out = torch.full((len(sequences), T), pad_index, dtype=torch.long)
    for i, s in enumerate(sequences):
        if len(s):
            out[i, :len(s)] = torch.as_tensor(s, dtype=torch.long)
    return (out if batch_first else out.t().contiguous()), lengths
