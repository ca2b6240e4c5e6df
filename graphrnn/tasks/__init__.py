"""Tasks: heads, losses, decoders, metrics and baselines."""
from .ctc import CTCHead, ctc_beam_search, ctc_greedy_decode
from .metrics import ChunkScore, accuracy, conlleval, exact_match, get_chunks, read_conlleval_file
from .ngram import NGramLM, lm_batch, perplexity_from_nll, token_nll
from .tree_plot import plot_tree, tree_layout

__all__ = ["CTCHead", "ctc_greedy_decode", "ctc_beam_search", "accuracy", "exact_match",
           "conlleval", "ChunkScore", "get_chunks", "read_conlleval_file", "NGramLM", "lm_batch",
           "token_nll", "perplexity_from_nll", "plot_tree", "tree_layout"]
