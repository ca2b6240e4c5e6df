"""Corpus BLEU through sacrebleu, the standard implementation (Post 2018, "A Call for Clarity in
Reporting BLEU Scores", https://aclanthology.org/W18-6319).

BLEU (Papineni et al. 2002, https://aclanthology.org/P02-1040) of a corpus is

    BLEU = BP * exp( sum_{n=1..N} (1/N) log p_n ),    BP = min(1, exp(1 - r / c))

with ``p_n`` the clipped n-gram precision over the whole corpus (each hypothesis n-gram counted
at most as often as it appears in any one of its references), ``c`` the hypotheses' total length
and ``r`` the sum, per hypothesis, of the reference length closest to it. Scores here are in
[0, 1] (sacrebleu prints them in [0, 100]). The text is tokenised by sacrebleu (``"13a"``, the
WMT default, for English; ``"zh"`` for Chinese; ``"none"`` for text already split by spaces), so
the figures are comparable with published ones; the signature says exactly how they were made.

Needs the ``translation`` extra: ``pip install "graphrnn[translation]"``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["BLEUScore", "corpus_bleu", "bleu_1_to_4"]


@dataclass(frozen=True)
class BLEUScore:
    """A corpus BLEU score.

    Attributes:
        score (float): BLEU in [0, 1].
        precisions (list of float): the clipped n-gram precisions ``p_1 .. p_N`` in [0, 1].
        brevity_penalty (float): ``BP``.
        hypothesis_length, reference_length (int): ``c`` and ``r`` in tokens.
        sacrebleu_signature (str): how sacrebleu computed it (tokenizer, smoothing, version).
    """
    score: float
    precisions: list[float]
    brevity_penalty: float
    hypothesis_length: int
    reference_length: int
    sacrebleu_signature: str


def _sacrebleu():
    try:
        from sacrebleu.metrics import BLEU
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("BLEU needs sacrebleu: pip install \"graphrnn[translation]\"") from error
    return BLEU


def _reference_streams(references: Sequence[Sequence[str]], num_hypotheses: int
                       ) -> list[list[str | None]]:
    """sacrebleu's layout: one stream per reference slot, ``None`` where a hypothesis has fewer
    references than the most any has."""
    if len(references) != num_hypotheses:
        raise ValueError(f"corpus_bleu: {num_hypotheses} hypotheses but {len(references)} "
                         "reference lists; expected one list of references per hypothesis")
    width = 0
    for i, refs in enumerate(references):
        if isinstance(refs, str) or len(refs) == 0:
            raise ValueError(f"corpus_bleu: references[{i}] must be a non-empty list of strings, "
                             f"got {refs!r}")
        width = max(width, len(refs))
    return [[refs[k] if k < len(refs) else None for refs in references] for k in range(width)]


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[Sequence[str]],
                max_order: int = 4, tokenize: str = "13a") -> BLEUScore:
    """Corpus BLEU of ``hypotheses`` against their references, through sacrebleu.

    Args:
        hypotheses (sequence of str): one detokenised output per segment.
        references (sequence of sequences of str): for each hypothesis, its references (any
            number, at least one).
        max_order (int): the largest n-gram order N. (default: 4)
        tokenize (str): a sacrebleu tokenizer name: ``"13a"``, ``"zh"``, ``"intl"``, ``"char"``,
            ``"none"``, ... (default: ``"13a"``)

    Returns:
        :class:`BLEUScore` with the score in [0, 1].
    """
    if isinstance(hypotheses, str):
        raise ValueError("corpus_bleu: hypotheses must be a list of strings, got one string")
    if max_order < 1:
        raise ValueError(f"corpus_bleu: max_order must be >= 1, got {max_order}")
    streams = _reference_streams(references, len(hypotheses))
    metric = _sacrebleu()(tokenize=tokenize, max_ngram_order=max_order)
    result = metric.corpus_score(list(hypotheses), streams)
    return BLEUScore(score=result.score / 100.0,
                     precisions=[p / 100.0 for p in result.precisions],
                     brevity_penalty=result.bp, hypothesis_length=result.sys_len,
                     reference_length=result.ref_len,
                     sacrebleu_signature=str(metric.get_signature()))


def bleu_1_to_4(hypotheses: Sequence[str], references: Sequence[Sequence[str]],
                tokenize: str = "13a") -> dict[str, float]:
    """``{"bleu1": .., "bleu2": .., "bleu3": .., "bleu4": ..}`` in [0, 1]: BLEU-n is the score
    with ``max_order=n`` (uniform weights over orders 1..n), as captioning papers report it."""
    return {f"bleu{n}": corpus_bleu(hypotheses, references, n, tokenize).score
            for n in range(1, 5)}
