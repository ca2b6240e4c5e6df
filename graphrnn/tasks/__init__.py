"""Tasks: heads, losses, decoders (greedy, beam, CTC), metrics and baselines (the N-gram).

No models, data sets, plots or drivers here: application models are in :mod:`graphrnn.models`,
data sets in :mod:`graphrnn.datasets`, the applications in :mod:`graphrnn.apps`."""
from __future__ import annotations

from ..lazy import lazy_exports

# name -> the submodule defining it, imported when the name is first read (graphrnn.lazy)
_EXPORTS = {
    "batchify": "bptt",
    "detach_state": "bptt",
    "TBPTTBatch": "bptt",
    "TBPTTWindows": "bptt",
    "CarriedState": "bptt",
    "tbptt_step": "bptt",
    "ctc_greedy_decode": "ctc",
    "ctc_beam_search": "ctc",
    "CTCHead": "ctc",
    "greedy_search": "decoding",
    "beam_search": "decoding",
    "gnmt_length_penalty": "decoding",
    "strip_eos": "decoding",
    "gradient_flow": "gradient_flow",
    "POOLINGS": "heads",
    "pool_states": "heads",
    "SequenceClassifier": "heads",
    "accuracy": "metrics",
    "exact_match": "metrics",
    "split_tag": "conlleval",
    "chunk_end": "conlleval",
    "chunk_start": "conlleval",
    "get_chunks": "conlleval",
    "ChunkScore": "conlleval",
    "conlleval": "conlleval",
    "read_conlleval_file": "conlleval",
    "roc_auc": "metrics",
    "sequence_exact_match": "metrics",
    "rmse": "metrics",
    "NGramLM": "ngram",
    "select_ngram": "ngram",
    "mkn_discounts": "ngram",
    "lm_batch": "ngram",
    "token_nll": "ngram",
    "perplexity_from_nll": "ngram",
    "corpus_bleu": "bleu",
    "bleu_1_to_4": "bleu",
    "BLEUScore": "bleu",
    "edit_distance": "metrics",
    "character_error_rate": "metrics",
    "r2": "metrics",
    "spearman": "metrics",
    "pr_auc": "metrics",
    "Mixture": "mixture_density",
    "MixtureDensityHead": "mixture_density",
    "split_mixture": "mixture_density",
    "mixture_log_prob": "mixture_density",
    "mixture_nll": "mixture_density",
    "sample_mixture": "mixture_density",
}
__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
