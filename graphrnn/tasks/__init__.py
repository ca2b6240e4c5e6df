"""Tasks: heads, losses, decoders, metrics and baselines."""
from .addition import AdditionRNN, add_numbers, addition_step, evaluate_addition
from .bptt import CarriedState, TBPTTWindows, batchify, detach_state, tbptt_step
from .ctc import CTCHead, ctc_beam_search, ctc_greedy_decode
from .metrics import ChunkScore, accuracy, conlleval, exact_match, get_chunks, read_conlleval_file
from .delay import (AR, NARX, TDNN, DelayFeedbackCell, delay_taps, fit_least_squares,
                    narendra_parthasarathy, np_series)
from .dynamics import (ParticleDynamicsModel, Transitions, constant_velocity_rollout,
                       fit_normalization, make_dynamics_step, plot_trajectories, rollout,
                       rollout_errors)
from .gradient_flow import (LongRangeClassifier, first_symbol_data, gradient_flow,
                            long_range_sweep, plot_gradient_flow)
from .heads import SequenceClassifier, pool_states
from .language_model import (LanguageModel, LMCollate, generate_poems, ideograph_mask,
                             lm_num_tokens, lm_step, sample_next)
from .language_model import generate as lm_generate
from .language_model import perplexity as lm_perplexity
from .molecules import (MoleculeModel, UniqueEdgeNetwork, evaluate_molecules, load_molecule_dataset,
                        molecule_step, roc_auc, split_dataset, target_stats)
from .ngram import NGramLM, lm_batch, perplexity_from_nll, token_nll
from .seq2seq import (Attention, Seq2Seq, Seq2SeqBatch, beam_search, greedy_search, seq2seq_step,
                      sequence_exact_match)
from .tagging import (BiLSTMTagger, TaggedBatch, TaggingEncoder, bmes_to_iobes, evaluate_tagger,
                      tagging_step)
from .tree_plot import plot_tree, tree_layout

__all__ = ["CTCHead", "ctc_greedy_decode", "ctc_beam_search", "accuracy", "exact_match",
           "conlleval", "ChunkScore", "get_chunks", "read_conlleval_file", "NGramLM", "lm_batch",
           "token_nll", "perplexity_from_nll", "plot_tree", "tree_layout", "AdditionRNN", "add_numbers", "addition_step",
           "evaluate_addition", "LanguageModel", "LMCollate", "lm_step", "lm_num_tokens",
           "lm_perplexity", "sample_next", "lm_generate", "generate_poems", "ideograph_mask", "ParticleDynamicsModel", "Transitions",
           "make_dynamics_step", "fit_normalization", "rollout", "constant_velocity_rollout",
           "rollout_errors", "plot_trajectories", "MoleculeModel", "UniqueEdgeNetwork",
           "molecule_step", "evaluate_molecules", "roc_auc", "target_stats",
           "load_molecule_dataset", "split_dataset", "CarriedState", "TBPTTWindows", "batchify",
           "detach_state", "tbptt_step", "AR", "NARX", "TDNN", "DelayFeedbackCell", "delay_taps",
           "fit_least_squares", "narendra_parthasarathy", "np_series", "LongRangeClassifier",
           "first_symbol_data", "gradient_flow", "long_range_sweep", "plot_gradient_flow",
           "SequenceClassifier", "pool_states", "Attention", "Seq2Seq", "Seq2SeqBatch",
           "beam_search", "greedy_search", "seq2seq_step", "sequence_exact_match", "BiLSTMTagger",
           "TaggedBatch", "TaggingEncoder", "bmes_to_iobes", "evaluate_tagger", "tagging_step"]
