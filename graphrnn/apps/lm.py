"""Language models on any text: a recurrent LM trained on the corpus as one stream (truncated BPTT,
state carried across windows) against the best Kneser-Ney N-gram, both scored on the same tokens.

The corpus (graphrnn.datasets.TextCorpus) is read as whitespace words or characters, one sentence
a line (--reader conll: the first column of a CoNLL file; tsv:K: column K), with a vocabulary from
the training split. The RNN reads [<eos>] line_1 [<eos>] line_2 ... and predicts every token of
every line and each line's <eos>, scored over the whole stream (state carried across sentences);
the N-gram (order and smoothing/discount chosen on the validation split, --orders) scores the
same tokens, so the perplexities in the printed table compare directly.

    graphrnn train lm --train train.txt --valid valid.txt --test test.txt
    graphrnn train lm --text all.txt --level char          # one file, split 90/5/5
    graphrnn train lm --dataset conll2000                  # presets: conll2000, cmn-eng, tang
    graphrnn evaluate lm                                    # re-score OUT/best.pt
    graphrnn generate lm --prompt "the company" --num 3 --temperature 0.8 --top-k 40

Training: SGD (default lr 20, divided by --lr-decay when the validation perplexity does not
improve; Zaremba et al. 2014 and PyTorch's word_language_model) or Adam; --clip on the gradient
norm; --asgd switches to averaged SGD when validation stalls (NT-ASGD, Merity et al. 2018).
Regularisers: --tied, --dropout (between layers), --input-dropout / --output-dropout
(--locked: one mask per sequence), --embedding-dropout, --weight-dropout (DropConnect on the
recurrent matrices), --weight-decay; --random-bptt varies the window length.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .config import ConfigError, EvaluateConfig, GenerateConfig, TrainConfig, option

DATASETS = ("conll2000", "cmn-eng", "tang")


@dataclass
class Config(TrainConfig):
    epochs: int = option(6, "training epochs", min=1)
    train: str | None = option(None, "training text file", path="in_file")
    valid: str | None = option(None, "validation text file", path="in_file")
    test: str | None = option(None, "test text file", path="in_file")
    text: str | None = option(None, "one text file, split 90/5/5 by --seed (instead of "
                              "--train/--valid/--test)", path="in_file")
    dataset: str | None = option(None, "a measured corpus read from --root (default: the "
                                 "project's data folder) with its settings", choices=DATASETS)
    level: str = option("word", "tokens: whitespace words or characters", choices=("word", "char"))
    reader: str = option("lines", "file layout: lines (a sentence a line), conll (first column, "
                         "blank line between sentences) or tsv:K (column K)")
    lowercase: bool = option(False, "lowercase the text")
    min_freq: int | None = option(None, "vocabulary: tokens seen at least this often in train "
                                  "(default: 2 for words, so that train's singletons become <unk> "
                                  "and the models learn it; 1 for characters)", min=1)
    max_vocab: int | None = option(None, "vocabulary: at most this many tokens (the most "
                                   "frequent)", min=1)
    limit: int | None = option(None, "use only the first LIMIT training sentences (a tenth of "
                               "that, at least 50, of valid and test)", min=1)
    orders: list[int] | None = option([2, 3, 4, 5], "N-gram orders of the baseline (none: skip "
                                      "it)", min=1)
    smoothing: str = option("both", "N-gram smoothing tried on validation: Kneser-Ney with a "
                            "discount grid (kn), modified Kneser-Ney (mkn) or both",
                            choices=("kn", "mkn", "both"))
    cell: str = option("lstm", "recurrent cell", choices=("lstm", "gru", "rnn"))
    embedding_dim: int = option(200, "token-embedding size", min=1)
    hidden: int = option(200, "recurrent units per layer", min=1)
    layers: int = option(2, "stacked recurrent layers", min=1)
    tied: bool = option(False, "tie the output layer to the embedding (a projection when "
                        "--hidden differs from --embedding-dim)")
    dropout: float = option(0.0, "dropout between layers (and on inputs and outputs unless "
                            "--input-dropout / --output-dropout)", min=0, max=0.99)
    input_dropout: float | None = option(None, "dropout on the embeddings (default: --dropout)",
                                         min=0, max=0.99)
    output_dropout: float | None = option(None, "dropout before the softmax (default: "
                                          "--dropout)", min=0, max=0.99)
    locked: bool = option(False, "input and output dropout draw one mask per sequence "
                          "(variational / locked dropout)")
    embedding_dropout: float = option(0.0, "drop whole word types from the embedding", min=0,
                                      max=0.99)
    weight_dropout: float = option(0.0, "DropConnect on the recurrent matrices (one mask per "
                                   "window)", min=0, max=0.99)
    init_range: float | None = option(0.1, "every weight U(-r, r) (none: PyTorch's "
                                      "initialisation)", positive=True)
    bptt: int = option(35, "truncated-BPTT window (steps)", min=1)
    random_bptt: bool = option(False, "random window lengths around --bptt, the learning rate "
                               "scaled by length / bptt (Merity et al. 2018)")
    batch_size: int = option(20, "parallel streams", min=1)
    eval_batch_size: int = option(10, "parallel streams when scoring (1: one history for the "
                                  "whole stream)", min=1)
    optimizer: str = option("sgd", "optimizer", choices=("sgd", "adam"))
    lr: float | None = option(None, "learning rate (default: 20 for sgd, 0.002 for adam)",
                              positive=True)
    lr_decay: float = option(4.0, "divide the learning rate by this when the validation "
                             "perplexity does not improve (1: never)", min=1)
    clip: float | None = option(0.25, "clip the gradient norm to this (none: no clipping)",
                                positive=True)
    weight_decay: float = option(0.0, "L2 weight decay (through the optimizer)", min=0)
    asgd: bool = option(False, "NT-ASGD: average the SGD iterates once validation stops "
                        "improving for --nonmono checks; evaluate with the average")
    nonmono: int = option(5, "NT-ASGD: checks to look back over", min=1)
    patience: int | None = option(None, "stop after this many epochs without a better "
                                  "validation perplexity", min=1)


# The settings measured for the README (its language-model section): one layer of 256, tied, locked
# dropout 0.3, DropConnect 0.1 on the recurrent matrix, Adam 5e-3 halved on a plateau, 8 streams
# (more updates per epoch than 20 on these ~200k-token corpora), trained in < 30 min on 1 thread.
_MEASURED = dict(embedding_dim=256, hidden=256, layers=1, tied=True, dropout=0.3, locked=True,
                 weight_dropout=0.1, batch_size=8, eval_batch_size=20, optimizer="adam",
                 lr=5e-3, lr_decay=2.0)
_WIDER = dict(embedding_dim=384, hidden=384, dropout=0.4, weight_dropout=0.25)
# and, on the word-level corpora, the Adam iterates averaged from the first validation check that
# does not improve (NT-ASGD's trigger with nonmono 1), embedding dropout 0.1 and longer (README:
# test 105.5 and 25.8, against 117.3 and 26.0 without these three)
_AVERAGED = dict(asgd=True, nonmono=1, embedding_dropout=0.1)
PRESETS = {
    "conll2000": dict(_MEASURED, dataset="conll2000", level="word", reader="conll", epochs=16,
                      **_WIDER, **_AVERAGED),
    # cmn-eng: SGD lr 20 under the averaging, Merity et al.'s NT-ASGD (test 24.2; Adam 25.8)
    "cmn-eng": dict(_MEASURED, dataset="cmn-eng", level="word", epochs=20, **_WIDER,
                    **_AVERAGED, optimizer="sgd", lr=20.0, clip=0.25, lr_decay=1.0),
    "tang": dict(_MEASURED, dataset="tang", level="char", epochs=4),
}
PRESET_FLAG = "--dataset"


@dataclass
class Evaluate(EvaluateConfig):
    orders: list[int] | None = option([2, 3, 4, 5], "N-gram orders of the baseline table (none: "
                                      "skip it)", min=1)
    sentence: bool = option(False, "also score each sentence on its own from <bos> (the "
                            "sentence-at-a-time perplexity, for comparison)")


@dataclass
class Generate(GenerateConfig):
    prompt: str = option("", "the text to continue (default: a new line)")
    num: int = option(3, "samples", min=1)
    max_length: int = option(50, "most tokens per sample", min=1)
    temperature: float = option(0.8, "sampling temperature (0: greedy)", min=0)
    top_k: int | None = option(40, "sample among the k most likely tokens (none: all)", min=1)
    unk: bool = option(False, "allow <unk> in samples")


def _check_source(config) -> None:
    files = [config.train, config.valid, config.test]
    sources = [any(f is not None for f in files), config.text is not None,
               config.dataset is not None]
    if sum(sources) != 1:
        raise ConfigError("give the text as --train F --valid F --test F, or --text F, or "
                          f"--dataset {{{','.join(DATASETS)}}} (exactly one of these)")
    if sources[0] and None in files:
        missing = [flag for flag, f in zip(("--train", "--valid", "--test"), files) if f is None]
        raise ConfigError(f"{', '.join(missing)} missing: --train, --valid and --test go together")
    if not (config.reader in ("lines", "conll") or re.fullmatch(r"tsv:\d+", config.reader)):
        raise ConfigError(f"--reader must be lines, conll or tsv:K (K a column number from 0), "
                          f"got {config.reader!r}")


def load_corpus(config):
    """The :class:`~graphrnn.datasets.TextCorpus` the settings name (``--limit`` applied)."""
    from pathlib import Path

    from ..datasets.text_corpus import TextCorpus

    _check_source(config)
    vocab = dict(max_size=config.max_vocab)
    if config.min_freq is not None:
        vocab["min_freq"] = config.min_freq  # else the corpus's own default
    if config.dataset == "conll2000":
        corpus = TextCorpus.conll2000(config.root, lowercase=config.lowercase, **vocab)
    elif config.dataset == "cmn-eng":
        corpus = TextCorpus.cmn_eng(Path(config.root) / "cmn.txt" if config.root else None,
                                    **vocab)
    elif config.dataset == "tang":
        corpus = TextCorpus.tang_poems(config.root, seed=config.seed, **vocab)
    else:
        files = dict(text=config.text) if config.text else \
            dict(train=config.train, valid=config.valid, test=config.test)
        vocab.setdefault("min_freq", 2 if config.level == "word" else 1)
        corpus = TextCorpus(level=config.level, reader=config.reader, seed=config.seed,
                            lowercase=config.lowercase, **files, **vocab)
    if config.limit is not None:
        keep = {"train": config.limit, "valid": max(config.limit // 10, 50)}
        keep["test"] = keep["valid"]
        vocab.setdefault("min_freq", 2 if corpus.level == "word" else 1)
        corpus = TextCorpus.from_sentences({k: corpus.sentences(k)[:n] for k, n in keep.items()},
                                           level=corpus.level, sources=corpus.sources, **vocab)
    return corpus


def build_model(config, vocab):
    """The network of ``config`` (an :class:`~graphrnn.models.stream_lm.NTAveragedModel` around
    the :class:`~graphrnn.models.language_model.LanguageModel` with ``--asgd``)."""
    from ..models.language_model import LanguageModel, predictable_ids
    from ..models.stream_lm import NTAveragedModel

    model = LanguageModel(len(vocab), config.embedding_dim, config.hidden, config.layers,
                          config.cell, dropout=config.dropout, tie_weights=config.tied,
                          pad_index=vocab.pad_index, input_dropout=config.input_dropout,
                          output_dropout=config.output_dropout, locked_dropout=config.locked,
                          embedding_dropout=config.embedding_dropout,
                          weight_dropout=config.weight_dropout, init_range=config.init_range,
                          output_ids=predictable_ids(vocab))
    return NTAveragedModel(model, config.nonmono) if config.asgd else model


def _quick(config) -> None:
    config.limit = config.limit or 400
    config.embedding_dim, config.hidden = min(config.embedding_dim, 32), min(config.hidden, 32)
    config.layers = 1
    config.orders = [o for o in config.orders or [] if o <= 3]


def score_table(model, corpus, orders, smoothing: str, batch_size: int, bptt: int,
                sentence: bool = False) -> dict:
    """The best N-gram (chosen on validation) and the RNN, valid and test perplexity on the
    same tokens (the counts are checked to agree); printed as one table."""
    import math

    from ..models.language_model import sentence_perplexity
    from ..models.stream_lm import stream_perplexity
    from ..tasks.ngram import select_ngram

    splits = ("valid", "test")
    tokens = {s: corpus.num_predicted(s) for s in splits}
    rows = []
    if orders:
        best, candidates = select_ngram(corpus.sentences("train"), corpus.sentences("valid"),
                                        corpus.vocab, orders, smoothing)
        row = {"model": f"{best.order}-gram {best.smoothing}"
               + (f" d={best.discount:g}" if best.smoothing == "kn" else ""),
               "order": best.order, "smoothing": best.smoothing,
               "discount": best.discount if best.smoothing == "kn" else None}
        for split in splits:
            total, n = best.nll(corpus.sentences(split))
            if n != tokens[split]:
                raise RuntimeError(f"the N-gram scored {n} {split} tokens, the stream has "
                                   f"{tokens[split]}: the comparison would not be fair")
            row[split] = math.exp(total / n)
        row["candidates"] = candidates
        rows.append(row)
    net = getattr(model, "evaluated", model)
    row = {"model": f"RNN {net.cell.upper()} {net.num_layers}x{net.hidden_size} (stream)"}
    for split in splits:
        row[split], _, n = stream_perplexity(model, corpus.stream(split), batch_size, bptt)
        if n != tokens[split]:
            raise RuntimeError(f"the RNN scored {n} {split} tokens, expected {tokens[split]}")
    rows.append(row)
    if sentence:
        row = {"model": "same RNN, sentence at a time from <bos>"}
        for split in splits:
            row[split] = sentence_perplexity(net, corpus.sentences(split), corpus.vocab)[0]
        rows.append(row)
    print(f"\nperplexity on the same tokens (every token and each line's <eos>): valid "
          f"{tokens['valid']:,}, test {tokens['test']:,}")
    print(f"| {'model':<40} | {'valid':>8} | {'test':>8} |\n|{'-' * 42}|{'-' * 10}|{'-' * 10}|")
    for r in rows:
        print(f"| {r['model']:<40} | {r['valid']:8.1f} | {r['test']:8.1f} |")
    result = {"tokens": tokens, "rows": [{k: v for k, v in r.items() if k != "candidates"}
                                         for r in rows]}
    if orders:
        ngram, rnn = rows[0], rows[1]
        result["ngram_candidates"] = rows[0]["candidates"]
        result["test_reduction"] = 1 - rnn["test"] / ngram["test"]
        change = result["test_reduction"]
        print(f"RNN vs best N-gram ({ngram['model']}, chosen on valid): "
              f"{100 * abs(change):.1f}% {'lower' if change >= 0 else 'higher'} test perplexity")
    return result


def _samples(model, vocab, level: str, prompt, num: int, max_length: int, temperature: float,
             top_k, seed: int, allow_unk: bool = False) -> list[str]:
    from ..models.language_model import generate

    net = getattr(model, "evaluated", model)
    out = generate(net, vocab, prompt, max_length=max_length, temperature=temperature,
                   top_k=top_k, num_samples=num, seed=seed, allow_unk=allow_unk,
                   start=vocab.eos_index)
    return [("" if level == "char" else " ").join(tokens) for tokens in out]


def train(config: Config) -> dict:
    import math

    import torch

    from ..models.stream_lm import stream_evaluator, stream_lm_step, stream_windows, window_tokens
    from ..tasks.bptt import LengthScaledLR
    from ..train import Trainer
    from .runtime import Timer, setup, trainer_options

    device = setup(config)
    _check_source(config)
    if config.quick:
        _quick(config)
    timer = Timer()
    corpus = load_corpus(config)
    config.level = corpus.level  # stored resolved (a preset's level)
    vocab = corpus.vocab
    summary = corpus.summary()
    print(f"lm: {corpus.level}s, vocabulary {len(vocab):,}; "
          + "; ".join(f"{k} {v['sentences']:,} lines, {v['predicted']:,} tokens with <eos> "
                      f"(oov {100 * v['oov']:.1f}%)" for k, v in summary.items())
          + f"; read in {timer.seconds:.1f} s")
    torch.manual_seed(config.seed)
    net = build_model(config, vocab)
    model = getattr(net, "model", net)
    lr = config.lr or (20.0 if config.optimizer == "sgd" else 2e-3)
    params = list(model.parameters())
    optimizer = torch.optim.SGD(params, lr=lr, weight_decay=config.weight_decay) \
        if config.optimizer == "sgd" else \
        torch.optim.Adam(params, lr=lr, weight_decay=config.weight_decay)
    if config.asgd:
        net.attach(optimizer)
    lr_scale = LengthScaledLR(optimizer) if config.random_bptt else None
    scheduler = None if config.lr_decay == 1 else torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, factor=1 / config.lr_decay, patience=0)
    trainer = Trainer(net, optimizer, stream_lm_step(lr_scale=lr_scale), scheduler=scheduler,
                      evaluate_fn=stream_evaluator(config.eval_batch_size, config.bptt,
                                                   net.observe if config.asgd else None),
                      batch_size_fn=window_tokens, clip_grad_norm=config.clip,
                      patience=config.patience, restore_best=True,
                      **trainer_options("lm", config, device, vocab=vocab.to_list()))
    windows = stream_windows(corpus.stream("train"), config.batch_size, config.bptt,
                             random_length=config.random_bptt)
    timer = Timer()
    history = trainer.fit(windows, corpus.stream("valid"))
    seconds = timer.seconds
    trained_tokens = sum(w.y.numel() for w in stream_windows(corpus.stream("train"),
                                                             config.batch_size, config.bptt))
    per_second = trained_tokens * len(history) / max(sum(r["time"] for r in history), 1e-9)
    print(f"trained {trainer.epoch} epochs in {seconds / 60:.1f} min ({per_second:,.0f} tokens/s, "
          f"validation included); best epoch {trainer.best_epoch}, valid perplexity "
          f"{math.exp(trainer.best_score):.1f}"
          + ("; evaluated with the NT-ASGD average" if getattr(net, "averaging", False) else ""))
    net = net.cpu().eval()
    table = score_table(net, corpus, config.orders, config.smoothing, config.eval_batch_size,
                        config.bptt)
    samples = _samples(net, vocab, corpus.level, [], 3, 40 if corpus.level == "word" else 120,
                       0.8, 40, config.seed)
    for s in samples:
        print(f"sample: {s}")
    return {"corpus": summary, "vocab_size": len(vocab), "table": table, "history": history,
            "samples": samples, "train_seconds": seconds, "epochs": trainer.epoch,
            "best_epoch": trainer.best_epoch, "train_tokens_per_epoch": trained_tokens,
            "tokens_per_second": per_second,
            "averaging": bool(getattr(net, "averaging", False))}


def _load(config):
    """Threads and device set, ``(network in eval mode, vocab, training config)``."""
    from ..datasets.text import Vocab
    from .runtime import open_trained

    _, _, ckpt, trained = open_trained(config, "lm", Config)
    vocab = Vocab.from_list(ckpt["vocab"])
    net = build_model(trained, vocab)
    net.load_state_dict(ckpt["model"])
    return net.eval(), vocab, trained


def evaluate(config: Evaluate) -> dict:
    from ..train import CheckpointError

    net, vocab, trained = _load(config)
    trained.root = config.root or trained.root
    if trained.quick:
        _quick(trained)
    corpus = load_corpus(trained)
    if corpus.vocab.to_list() != vocab.to_list():
        raise CheckpointError("the corpus read now gives another vocabulary than the checkpoint's "
                              "(the files changed?); the scores would not be the trained model's")
    return score_table(net, corpus, config.orders, trained.smoothing, trained.eval_batch_size,
                       trained.bptt, sentence=config.sentence)


def _prompt_tokens(prompt: str, trained) -> list[str]:
    from ..datasets.text_corpus import char_tokenize, split_punctuation

    if trained.lowercase or trained.dataset == "cmn-eng":
        prompt = prompt.lower()
    if trained.level == "char":
        return char_tokenize(prompt)
    if trained.dataset == "cmn-eng":
        prompt = split_punctuation(prompt)
    return prompt.split()


def generate(config: Generate) -> dict:
    net, vocab, trained = _load(config)
    prompt = _prompt_tokens(config.prompt, trained)
    try:
        samples = _samples(net, vocab, trained.level, prompt, config.num, config.max_length,
                           config.temperature, config.top_k, config.seed, config.unk)
    except ValueError as err:
        raise ConfigError(f"--prompt {config.prompt!r}: {err}") from None
    for s in samples:
        print(s)
    return {"prompt": config.prompt, "samples": samples}


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate),
            "generate": (Generate, generate)}
