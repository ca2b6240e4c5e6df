"""Datasets, PyG-style: ``root``, ``download()``, ``process()``; embedded data where a dependency
ships it, canonical downloads verified by checksum otherwise, and local copies through ``root``."""
from .addition import AdditionBatch, Learn2Carry, from_digits, make_addition, to_digits
from .conll import (CoNLL2000, Sentence, bmes_to_words, read_conll, read_segmented, words_to_bmes,
                    write_conll)
from .download import ChecksumError, download_url
from .molecule_splits import random_split, scaffold_split
from .molecules import BBBP, ESOL, TPSA, FreeSolv, Lipophilicity, MoleculeCSV, MoleculeDataset
from .nbody import NBody
from .poems import (FormCheck, Poem, check_form, filter_poems, is_well_formed, read_blank_line,
                    read_chinese_poetry, read_poems, read_title_content, to_simplified)
from .tang_poems import TangPoems, split_of
from .ptb import (TreeFormatError, add_levels, iter_tree_strings, normalize_tree, parse_tree,
                  read_trees, trees_to_graphs)
from .simulators import ChargedSystem, GravitySystem, SpringSystem, StringSystem
from .sst import SST
from .text import BOS, EOS, PAD, SPECIALS, UNK, Vocab, detokenize, pad_sequences, tokenize

__all__ = [
    "Learn2Carry", "AdditionBatch", "make_addition", "to_digits", "from_digits",
    "CoNLL2000", "Sentence", "read_conll", "write_conll", "words_to_bmes", "bmes_to_words",
    "read_segmented", "download_url", "ChecksumError",
    "TPSA", "MoleculeCSV", "MoleculeDataset", "ESOL", "FreeSolv", "Lipophilicity", "BBBP",
    "random_split", "scaffold_split", "NBody", "SpringSystem", "ChargedSystem", "GravitySystem",
    "StringSystem", "Poem", "TangPoems", "read_poems", "read_title_content", "read_blank_line",
    "read_chinese_poetry", "filter_poems", "check_form", "is_well_formed", "FormCheck",
    "to_simplified", "split_of", "PAD", "UNK", "BOS", "EOS", "SPECIALS", "tokenize",
    "detokenize", "Vocab", "pad_sequences", "SST", "TreeFormatError", "read_trees", "parse_tree",
    "normalize_tree", "trees_to_graphs", "add_levels", "iter_tree_strings",
]
