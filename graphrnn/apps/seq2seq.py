"""An encoder-decoder on your own text pairs (dialogue, paraphrase, translation, ...): any
tab-separated file of (context, response) lines.

The same model and training code as ``graphrnn train translation`` (graphrnn.apps.encoder_decoder:
a BiLSTM/BiGRU encoder and an attention decoder, or --model transformer), configured for a file
you give (format: datasets/pairs.md): the source in column --src-col, the target in --tgt-col
(from 0); a line with too few columns or an empty field is an error naming file and line. Pairs
with the same source stay in one split (seeded; --valid/--test pairs, counts or fractions). Text
is read as words with punctuation split off (--level char: characters; jieba: Chinese words),
lowercased unless --no-lowercase. The score is the test split's corpus BLEU (sacrebleu) with
greedy decoding and beam search, and the validation loss.

    graphrnn train seq2seq --pairs chat.tsv --src-col 0 --tgt-col 1 --epochs 20
    graphrnn generate seq2seq --checkpoint runs/seq2seq/best.pt --text "how are you ?"
    graphrnn generate seq2seq --checkpoint runs/seq2seq/best.pt --interactive   # a line in,
                                                                                # a reply out
No dialogue corpus ships with graphrnn; the tests train on a small hand-made file.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import ConfigError, GenerateConfig, option
from .encoder_decoder import EncoderDecoderConfig, EncoderDecoderEvaluate


@dataclass
class Config(EncoderDecoderConfig):
    pairs: str | None = option(None, "tab-separated file of (source, target) pairs (required)",
                               path="in_file")
    src_col: int = option(0, "column of the source (context), from 0", min=0)
    tgt_col: int = option(1, "column of the target (response), from 0", min=0)
    level: str = option("word", "tokens: words (punctuation split), characters or jieba words",
                        choices=("word", "char", "jieba"))
    lowercase: bool = option(True, "lowercase the text")
    valid: float = option(0.05, "validation pairs (a count, or a fraction when < 1)", positive=True)
    test: float = option(0.05, "test pairs (a count, or a fraction when < 1)", positive=True)
    min_freq: int = option(1, "vocabulary: tokens seen at least this often in train", min=1)


Evaluate = EncoderDecoderEvaluate


@dataclass
class Generate(GenerateConfig):
    text: str | None = option(None, "one input line to answer")
    interactive: bool = option(False, "read lines from stdin until it ends, print a reply to "
                               "each")
    beam: int = option(1, "beam width (1: greedy)", min=1)
    length_penalty: float = option(0.6, "GNMT length normalisation exponent", min=0)


def tokenizers(config: Config):
    """``(source, target)`` tokenizers of a config (the same on both sides)."""
    from ..datasets.pairs import Tokenizer

    tok = Tokenizer(config.level, lowercase=config.lowercase)
    return tok, tok


def _data(config: Config):
    from ..datasets.pairs import TextPairs, read_pairs, split_pairs

    if config.pairs is None:
        raise ConfigError("--pairs FILE is required: a tab-separated file of (source, target) "
                          "lines (see datasets/pairs.md)")
    if config.src_col == config.tgt_col:
        raise ConfigError(f"--src-col and --tgt-col must differ, both are {config.src_col}")
    pairs = read_pairs(config.pairs, config.src_col, config.tgt_col)
    try:
        splits = split_pairs(pairs, config.valid, config.test, config.seed)
        source, target = tokenizers(config)
        return TextPairs(splits, source, target, min_freq=config.min_freq,
                         max_len=config.max_len)
    except ValueError as err:
        raise ConfigError(f"--pairs {config.pairs}: {err}") from None


def train(config: Config) -> dict:
    from .encoder_decoder import fit, test_scores
    from .runtime import Timer, setup

    device = setup(config)
    if config.quick:
        config.hidden, config.embedding_dim, config.feedforward = 32, 32, 64
        config.epochs = min(config.epochs, 3)
    timer = Timer()
    data = _data(config)
    summary = data.summary()
    print(f"seq2seq {config.pairs}: {summary['train']['pairs']:,} training pairs, vocabularies "
          f"{summary['vocab']['source']:,} / {summary['vocab']['target']:,} tokens")
    model, history = fit("seq2seq", config, data, device)
    scores = test_scores(model, data, config, device)
    best = min(row["val_loss"] for row in history)
    print(f"seq2seq: {len(history)} epochs in {timer.seconds:.0f} s; best validation loss "
          f"{best:.3f}; test BLEU greedy {scores['test_bleu_greedy']:.2f} "
          f"({scores['bleu_signature']})")
    return {"data": summary, "epochs": len(history), "seconds": timer.seconds,
            "best_val_loss": best, "history": history, **scores}


def evaluate(config: Evaluate) -> dict:
    from .encoder_decoder import bleu, load_trained

    model, src_vocab, _, trained, device = load_trained(config, "seq2seq", Config)
    data = _data(trained)
    if data.src_vocab.to_list() != src_vocab.to_list():
        raise ValueError(f"{trained.pairs} now gives another vocabulary than the checkpoint's; "
                         "evaluate on the file it was trained with")
    out = {"test_bleu_greedy": bleu(model, data, "test", 1, 0.0, device)["bleu"]}
    if config.beam > 1:
        out[f"test_bleu_beam{config.beam}"] = bleu(model, data, "test", config.beam,
                                                   config.length_penalty, device)["bleu"]
    print("seq2seq test BLEU: " + ", ".join(f"{k[10:]} {v:.2f}" for k, v in out.items()))
    return out


def generate(config: Generate) -> dict:
    import sys

    from .encoder_decoder import load_trained, reply_loop, translate

    if (config.text is None) == (not config.interactive):
        raise ConfigError("give --text LINE or --interactive (lines from stdin), one of them")
    model, src_vocab, tgt_vocab, trained, device = load_trained(config, "seq2seq", Config)
    source, target = tokenizers(trained)
    replies: list[dict] = []

    def respond(line: str) -> str:
        out = translate(model, [src_vocab.encode(source(line))], config.beam,
                        config.length_penalty, device)[0]
        reply = target.detokenize(tgt_vocab.decode(out))
        replies.append({"input": line, "reply": reply})
        return reply

    def write(reply: str) -> None:
        print(reply, flush=True)

    reply_loop(sys.stdin if config.interactive else [config.text], respond, write)
    return {"replies": replies}


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate),
            "generate": (Generate, generate)}
