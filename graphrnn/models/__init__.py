"""Application models built from :mod:`graphrnn.nn`: one module per model family, each with its
loss (the ``step`` the training loop calls) and its evaluation routine."""
from __future__ import annotations

from ..lazy import lazy_exports

# name -> the submodule defining it, imported when the name is first read (graphrnn.lazy)
_EXPORTS = {
    "AdditionRNN": "addition",
    "addition_step": "addition",
    "evaluate_addition": "addition",
    "add_numbers": "addition",
    "CTCReader": "ctc",
    "ctc_step": "ctc",
    "sequence_accuracy": "ctc",
    "Standardizer": "dynamics",
    "ParticleDynamicsModel": "dynamics",
    "make_dynamics_step": "dynamics",
    "fit_normalization": "dynamics",
    "rollout": "dynamics",
    "constant_velocity_rollout": "dynamics",
    "rollout_errors": "dynamics",
    "LanguageModel": "language_model",
    "lm_step": "language_model",
    "lm_num_tokens": "language_model",
    "perplexity": "language_model",
    "sample_next": "language_model",
    "generate": "language_model",
    "generate_poems": "language_model",
    "ideograph_mask": "language_model",
    "CELLS": "long_range",
    "LongRangeClassifier": "long_range",
    "long_range_step": "long_range",
    "accuracy_on": "long_range",
    "MoleculeModel": "molecule",
    "MoleculeEnsemble": "molecule",
    "UniqueEdgeNetwork": "molecule",
    "molecule_step": "molecule",
    "evaluate_molecules": "molecule",
    "TDNNRegressor": "narx",
    "build_models": "narx",
    "narx_step": "narx",
    "predictions": "narx",
    "scores": "narx",
    "Seq2Seq": "seq2seq",
    "Seq2SeqBatch": "seq2seq",
    "seq2seq_step": "seq2seq",
    "generate_exact_match": "seq2seq",
    "CharCNN": "tagger",
    "BiLSTMTagger": "tagger",
    "tagging_step": "tagger",
    "evaluate_tagger": "tagger",
    "TreeClassifier": "tree_classifier",
    "tree_step": "tree_classifier",
    "evaluate_trees": "tree_classifier",
    "predict_tree": "tree_classifier",
    "TreeEnsemble": "tree_classifier",
    "load_vectors": "tree_classifier",
    "copy_weights": "tree_classifier",
}
__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
