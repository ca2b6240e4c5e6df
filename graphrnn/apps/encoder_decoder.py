"""What ``graphrnn train translation`` and ``graphrnn train seq2seq`` share: the settings of an
encoder-decoder on text pairs, building it (the recurrent :class:`~graphrnn.models.Seq2Seq` or
the :class:`~graphrnn.models.transformer_seq2seq.TransformerSeq2Seq` baseline), training it with
the one :class:`~graphrnn.train.Trainer` (label smoothing in the step, ``--time-budget`` for
equal-time comparisons), decoding (greedy or beam search with GNMT's length normalisation),
corpus BLEU through sacrebleu (:mod:`graphrnn.tasks.bleu`), the attention heat map and loading a
checkpoint back (the two vocabularies travel in the checkpoint's record, so ``generate`` needs
nothing but the checkpoint).

This module imports nothing heavy at the top: ``--help`` stays fast.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import EvaluateConfig, TrainConfig, option

__all__ = ["EncoderDecoderConfig", "EncoderDecoderEvaluate", "build_model", "fit", "translate",
           "bleu", "test_scores", "load_trained", "plot_attention", "reply_loop"]


@dataclass
class EncoderDecoderConfig(TrainConfig):
    """Model, training and decoding settings shared by the encoder-decoder apps."""
    model: str = option("rnn", "rnn (BiLSTM/GRU encoder, attention decoder) or transformer "
                        "(torch.nn.Transformer baseline)", choices=("rnn", "transformer"))
    cell: str = option("lstm", "rnn: recurrent cell of encoder and decoder",
                       choices=("lstm", "gru"))
    attention: str = option("general", "rnn: attention score (none: the encoder's final states "
                            "are the context at every step)",
                            choices=("none", "dot", "general", "additive"))
    embedding_dim: int = option(256, "rnn: token embedding size", min=1)
    hidden: int = option(256, "rnn: hidden units per encoder direction and of the decoder; "
                         "transformer: d_model", min=1)
    layers: int = option(1, "rnn: encoder layers; transformer: encoder and decoder layers",
                         min=1)
    heads: int = option(4, "transformer: attention heads", min=1)
    feedforward: int = option(512, "transformer: feed-forward width", min=1)
    dropout: float = option(0.3, "dropout (embeddings, attentional states / transformer layers)",
                            min=0, max=0.99)
    label_smoothing: float = option(0.1, "label smoothing epsilon of the loss", min=0, max=0.99)
    lr: float = option(2e-3, "Adam learning rate (halved when the validation loss stalls)",
                       positive=True)
    batch_size: int = option(64, "pairs per batch", min=1)
    time_budget: float | None = option(None, "stop training after this many wall-clock seconds "
                                       "(equal-time comparisons)", positive=True)
    min_freq: int = option(2, "vocabulary: tokens seen at least this often in train", min=1)
    max_len: int = option(30, "training pairs with a side longer than this are left out", min=1)
    beam: int = option(5, "beam width of the beam-search score", min=1)
    length_penalty: float = option(0.6, "GNMT length normalisation exponent alpha of beam "
                                   "search", min=0)


@dataclass
class EncoderDecoderEvaluate(EvaluateConfig):
    """``graphrnn evaluate translation|seq2seq``: test BLEU of a checkpoint."""
    beam: int = option(5, "beam width", min=1)
    length_penalty: float = option(0.6, "GNMT length normalisation exponent", min=0)


def build_model(config, src_size: int, tgt_size: int):
    """The model of ``config`` over vocabularies of these sizes (specials at the default ids)."""
    if config.model == "transformer":
        from ..models.transformer_seq2seq import TransformerSeq2Seq

        if config.hidden % config.heads:
            raise ValueError(f"--hidden {config.hidden} (d_model) must be a multiple of --heads "
                             f"{config.heads}")
        return TransformerSeq2Seq(src_size, tgt_size, d_model=config.hidden, nhead=config.heads,
                                  num_encoder_layers=config.layers,
                                  num_decoder_layers=config.layers,
                                  dim_feedforward=config.feedforward, dropout=config.dropout)
    from ..models.seq2seq import Seq2Seq

    return Seq2Seq(src_size, tgt_size, embedding_dim=config.embedding_dim,
                   hidden_size=config.hidden, num_layers=config.layers, score=config.attention,
                   dropout=config.dropout, cell=config.cell)


def fit(app: str, config, data, device):
    """Train the model of ``config`` on ``data`` (a :class:`~graphrnn.datasets.pairs.TextPairs`)
    with the one Trainer: Adam, LR halved on a validation-loss plateau, gradient norm clipped to
    1, label smoothing, best weights restored; checkpoints, metrics.csv and curves.png in
    ``config.out``. Returns ``(model, history)``."""
    import torch

    from ..datasets.pairs import pair_batches
    from ..models.seq2seq import seq2seq_step
    from ..train import Trainer, seed_everything
    from .runtime import checkpoint_record, trainer_options

    seed_everything(config.seed)
    model = build_model(config, len(data.src_vocab), len(data.tgt_vocab))
    train_loader = pair_batches(data.items("train"), config.batch_size, shuffle=True,
                                seed=config.seed)
    val_loader = pair_batches(data.items("valid"), 256)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    record = {**checkpoint_record(app, config),
              "vocabs": {"source": data.src_vocab.to_list(), "target": data.tgt_vocab.to_list()}}
    smoothing = config.label_smoothing

    def step(m, b):
        return seq2seq_step(m, b, label_smoothing=smoothing, greedy=False)

    options = {**trainer_options(app, config, device), "config": record}
    trainer = Trainer(model, optimizer, step, scheduler=scheduler, monitor="val_loss",
                      clip_grad_norm=1.0, restore_best=True, time_budget=config.time_budget,
                      **options)
    history = trainer.fit(train_loader, val_loader)
    return trainer.model.eval(), history


def translate(model, sources: list[list[int]], beam: int = 1, length_penalty: float = 0.0,
              device=None, batch_size: int = 100) -> list[list[int]]:
    """Decoded target ids of every source (ids), greedy when ``beam == 1``; at most
    ``2 * source length + 10`` tokens."""
    import torch

    from ..datasets.text import pad_sequences

    model.eval()
    out: list[list[int]] = []
    with torch.no_grad():
        for i in range(0, len(sources), batch_size):
            chunk = [s if s else [model.pad] for s in sources[i:i + batch_size]]
            src, lengths = pad_sequences(chunk, model.pad)
            out += model.generate(src.to(device), lengths.to(device),
                                  max_len=2 * src.size(1) + 10, beam_width=beam,
                                  length_penalty=length_penalty)
    return out


def bleu_tokenizer(target) -> str:
    """sacrebleu's tokenizer for the target side: ``"zh"`` for Chinese (characters or jieba
    words), ``"13a"`` for words."""
    return "13a" if target.level == "word" else "zh"


def bleu(model, data, split: str, beam: int, length_penalty: float, device) -> dict:
    """Corpus BLEU (0-100, sacrebleu) of decoding every distinct source of ``split`` against all
    its references; ``{"bleu", "signature", "examples"}`` (the first three translations)."""
    from ..tasks.bleu import corpus_bleu

    sources, refs, _ = data.grouped(split)
    hyps = [data.decode_target(ids) for ids in
            translate(model, sources, beam, length_penalty, device)]
    score = corpus_bleu(hyps, refs, tokenize=bleu_tokenizer(data.target))
    examples = [{"source": data.source.detokenize(data.src_vocab.decode(s)), "output": h,
                 "references": r} for s, h, r in list(zip(sources, hyps, refs))[:3]]
    return {"bleu": 100 * score.score, "signature": score.sacrebleu_signature,
            "examples": examples}


def test_scores(model, data, config, device) -> dict:
    """Test BLEU with greedy decoding and with beam search of width ``config.beam``."""
    greedy = bleu(model, data, "test", 1, 0.0, device)
    out = {"test_bleu_greedy": greedy["bleu"], "bleu_signature": greedy["signature"],
           "examples": greedy["examples"]}
    if config.beam > 1:
        out[f"test_bleu_beam{config.beam}"] = bleu(model, data, "test", config.beam,
                                                   config.length_penalty, device)["bleu"]
    return out


def load_trained(config, app: str, config_cls: type):
    """``(model in eval mode, source vocab, target vocab, training config, device)`` of
    ``--checkpoint`` (default ``OUT/best.pt``), from the checkpoint alone."""
    from ..datasets.text import Vocab
    from ..train import CheckpointError
    from .runtime import open_trained

    device, path, ckpt, trained = open_trained(config, app, config_cls)
    vocabs = ckpt["config"].get("vocabs")
    if not vocabs:
        raise CheckpointError(f"checkpoint {path} holds no vocabularies; it was not written by "
                              f"'graphrnn train {app}'")
    src, tgt = Vocab.from_list(vocabs["source"]), Vocab.from_list(vocabs["target"])
    model = build_model(trained, len(src), len(tgt)).to(device)
    model.load_state_dict(ckpt["model"])
    return model.eval(), src, tgt, trained, device


def plot_attention(weights, source: list[str], target: list[str], path) -> None:
    """A heat map of attention ``weights`` (len(target), len(source)): source tokens across,
    target tokens down, written as PNG to ``path`` (a CJK font is used when one is installed)."""
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..io import atomic_write

    cjk = _cjk_fonts(font_manager)
    fig = Figure(figsize=(1.0 + 0.45 * len(source), 1.0 + 0.4 * len(target)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    font = {"family": [cjk[0], "DejaVu Sans"]} if cjk else {}
    ax.set_xticks(range(len(source)), source, rotation=60, ha="right", fontdict=font)
    ax.set_yticks(range(len(target)), target, fontdict=font)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110))


CJK_NAMES = ("CJK", "WenQuanYi", "Hei", "Ming", "Song", "Kai", "wqy")


def _cjk_fonts(font_manager) -> list[str]:
    """Names of installed fonts with Chinese glyphs; fonts installed after matplotlib cached its
    list are found on disk and added."""
    names = [f.name for f in font_manager.fontManager.ttflist
             if any(k in f.name for k in CJK_NAMES)]
    if not names:
        for path in font_manager.findSystemFonts():
            if any(k.lower() in Path(path).name.lower() for k in CJK_NAMES):
                font_manager.fontManager.addfont(path)
                names.append(font_manager.FontProperties(fname=path).get_name())
    return names


def attention_map(model, src_ids: list[int], out_ids: list[int], device):
    """The decoder's attention (len(out) + 1, len(src)) while producing ``out_ids`` and
    ``<eos>``, or ``None`` for a model without it (the Transformer, or ``--attention none``)."""
    import torch

    if not hasattr(model, "attention_weights") or model.attention is None:
        return None
    src = torch.tensor([src_ids or [model.pad]], device=device)
    tgt = torch.tensor([[model.bos, *out_ids, model.eos]], device=device)
    with torch.no_grad():
        weights = model.attention_weights(src, torch.tensor([src.size(1)], device=device), tgt)
    return weights[0].cpu().numpy()


def reply_loop(lines, respond, write) -> int:
    """``write(respond(line))`` for every non-blank line of ``lines`` (e.g. ``sys.stdin``) until
    they end; returns the number of replies."""
    count = 0
    for line in lines:
        if line.strip():
            write(respond(line.strip()))
            count += 1
    return count
