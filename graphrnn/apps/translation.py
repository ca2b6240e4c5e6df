"""English-Chinese translation with attention on Tatoeba's 29,155 sentence pairs, scored by corpus
BLEU through sacrebleu.

The pairs (cmn.txt of manythings.org/anki, CC-BY 2.0 France; graphrnn.datasets.translation) are
split by a seeded shuffle that keeps every translation of one sentence on one side: 1,500 test
and 1,500 validation pairs, ~26,150 for training. English is lowercased with punctuation split
off; Chinese is read by characters (--chinese jieba: words). The model is
graphrnn.models.Seq2Seq (BiLSTM or BiGRU encoder, decoder with Luong input feeding and attention:
--attention none|dot|general|additive) or, with --model transformer, a torch.nn.Transformer
baseline with the same vocabularies, loss, decoding and BLEU code; --time-budget SECONDS gives
both the same training time. Both directions (--direction en-zh|zh-en). Test BLEU (sacrebleu:
tokenizer zh for Chinese output, 13a for English, against all references of each distinct test
source; English references lowercased) with greedy decoding and beam search (--beam, GNMT length
normalisation --length-penalty).

    graphrnn train translation --direction en-zh --attention general --time-budget 480
    graphrnn train translation --direction en-zh --model transformer --lr 7e-4 --dropout 0.1 \\
        --layers 2 --time-budget 480
    graphrnn evaluate translation --checkpoint runs/translation/best.pt --beam 5
    graphrnn generate translation --checkpoint runs/translation/best.pt --text "I love you."

generate prints the translation and writes the attention heat map (source tokens against output
tokens) to OUT/attention.png. The README's table gives the BLEU these commands measured.
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import GenerateConfig, option
from .encoder_decoder import EncoderDecoderConfig, EncoderDecoderEvaluate


@dataclass
class Config(EncoderDecoderConfig):
    epochs: int = option(30, "training epochs (at most; --time-budget may stop sooner)", min=1)
    direction: str = option("en-zh", "translation direction", choices=("en-zh", "zh-en"))
    chinese: str = option("char", "Chinese tokens: characters or jieba words",
                          choices=("char", "jieba"))


Evaluate = EncoderDecoderEvaluate


@dataclass
class Generate(GenerateConfig):
    text: str = option("I love you.", "the sentence to translate (in the source language)")
    beam: int = option(5, "beam width (1: greedy)", min=1)
    length_penalty: float = option(0.6, "GNMT length normalisation exponent", min=0)
    png: str | None = option(None, "attention heat map (default: OUT/attention.png)",
                             path="out_file")


def _data(config: Config):
    from ..datasets.pairs import TextPairs
    from ..datasets.translation import cmn_eng_pairs

    root = None
    if config.root is not None:
        from pathlib import Path

        root = Path(config.root)
        root = root / "cmn.txt" if root.is_dir() else root
    held_out = 0.1 if config.quick else 1500  # --quick may read a tiny file
    data = cmn_eng_pairs(root, config.direction, config.chinese, config.seed, valid=held_out,
                         test=held_out, min_freq=config.min_freq, max_len=config.max_len)
    if config.quick:  # a slice, for smoke tests
        splits = {"train": data.splits["train"][:1500], "valid": data.splits["valid"][:100],
                  "test": data.splits["test"][:100]}
        data = TextPairs(splits, data.source, data.target, min_freq=1, max_len=config.max_len)
    return data


def tokenizers(config: Config):
    """``(source, target)`` tokenizers of a trained config's direction."""
    from ..datasets.pairs import Tokenizer

    english, chinese = Tokenizer("word", lowercase=True), Tokenizer(config.chinese)
    return (english, chinese) if config.direction == "en-zh" else (chinese, english)


def _heat_map(model, text: str, config, src_vocab, tgt_vocab, beam, lp, device, path):
    """Translate ``text``, draw its attention to ``path``: ``(translation, tokens, png or
    None)``."""
    from .encoder_decoder import attention_map, plot_attention, translate

    source, target = tokenizers(config)
    tokens = source(text)
    ids = src_vocab.encode(tokens)
    out = translate(model, [ids], beam, lp, device)[0]
    out_tokens = tgt_vocab.decode(out)
    weights = attention_map(model, ids, out, device)
    if weights is not None:
        plot_attention(weights, tokens, [*out_tokens, "<eos>"], path)
    return target.detokenize(out_tokens), out_tokens, (str(path) if weights is not None else None)


def train(config: Config) -> dict:
    from pathlib import Path

    from .encoder_decoder import fit, test_scores
    from .runtime import Timer, setup

    device = setup(config)
    if config.quick:
        config.hidden, config.embedding_dim, config.feedforward, config.epochs = 32, 32, 64, 1
    timer = Timer()
    data = _data(config)
    summary = data.summary()
    print(f"translation {config.direction}: {summary['train']['pairs']:,} training pairs, "
          f"vocabularies {summary['vocab']['source']:,} / {summary['vocab']['target']:,} tokens")
    model, history = fit("translation", config, data, device)
    params = sum(p.numel() for p in model.parameters())
    train_seconds = timer.seconds
    scores = test_scores(model, data, config, device)
    name = "transformer" if config.model == "transformer" else \
        f"{config.cell} attention={config.attention}"
    beam_key = f"test_bleu_beam{config.beam}"
    beam_text = f", beam {config.beam} {scores[beam_key]:.2f}" if beam_key in scores else ""
    print(f"translation {config.direction} ({name}, {params:,} parameters): {len(history)} "
          f"epochs in {train_seconds:.0f} s; test BLEU greedy {scores['test_bleu_greedy']:.2f}"
          f"{beam_text} ({summary['test']['sources']} distinct test sources; "
          f"{scores['bleu_signature']})")
    sample = "I love you." if config.direction == "en-zh" else "我爱你。"
    text, _, png = _heat_map(model, sample, config, data.src_vocab, data.tgt_vocab, 1, 0.0,
                             device, Path(config.out) / "attention.png")
    print(f"{sample} -> {text}" + (f" (attention: {png})" if png else ""))
    return {"direction": config.direction, "model": name, "parameters": params,
            "data": summary, "epochs": len(history), "train_seconds": train_seconds,
            "seconds": timer.seconds, "history": history, **scores,
            "sample": {"source": sample, "output": text, "attention_png": png}}


def evaluate(config: Evaluate) -> dict:
    from .encoder_decoder import bleu, load_trained

    model, src_vocab, tgt_vocab, trained, device = load_trained(config, "translation", Config)
    if config.root is not None:
        trained.root = config.root
    data = _data(trained)
    if data.src_vocab.to_list() != src_vocab.to_list():
        raise ValueError("the pairs read now give another vocabulary than the checkpoint's; "
                         "evaluate on the file and settings it was trained with")
    out = {"test_bleu_greedy": bleu(model, data, "test", 1, 0.0, device)["bleu"]}
    if config.beam > 1:
        out[f"test_bleu_beam{config.beam}"] = bleu(model, data, "test", config.beam,
                                                   config.length_penalty, device)["bleu"]
    print(f"translation {trained.direction} test BLEU: "
          + ", ".join(f"{k[10:]} {v:.2f}" for k, v in out.items()))
    return out


def generate(config: Generate) -> dict:
    from pathlib import Path

    from .encoder_decoder import load_trained

    model, src_vocab, tgt_vocab, trained, device = load_trained(config, "translation", Config)
    path = Path(config.png or Path(config.out) / "attention.png")
    text, tokens, png = _heat_map(model, config.text, trained, src_vocab, tgt_vocab,
                                  config.beam, config.length_penalty, device, path)
    print(text)
    print(f"attention heat map: {png}" if png else
          "(no attention heat map: this model has no recurrent attention)")
    return {"source": config.text, "translation": text, "tokens": tokens, "attention_png": png}


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate),
            "generate": (Generate, generate)}
