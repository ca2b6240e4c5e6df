"""Image captioning with soft attention (Show, Attend and Tell): generated scenes, COCO, Flickr8k.

A CNN (graphrnn.nn.ConvEncoder) turns each image into a grid of region vectors (8x8 for 64x64
images); an LSTM decoder with additive soft attention over the regions writes the caption word by
word (graphrnn.models.captioner.Captioner; Xu et al. 2015, https://arxiv.org/abs/1502.03044),
trained with teacher forcing and decoded greedily and with beam search. --no-attention trains the
same decoder reading the mean of the regions instead, the baseline to compare with.

The default data set is generated (graphrnn.datasets.ShapeScenes, datasets/shape_scenes.md):
scenes of 1-4 coloured shapes with five reference captions each from a small grammar ("a picture
of a small red circle to the left of a large blue square"). Scores on the test scenes: corpus
BLEU-1..4 against all references (sacrebleu), and a content score: each generated caption is
parsed back into (size, colour, shape) objects, matched against the scene's (precision, recall,
F1), reported on all test scenes and on those with 3-4 objects. Each attention run also writes
attention_K.png: the attention map over the image at every generated word.

With --dataset coco or flickr8k and --root FOLDER it trains on your copy of those sets
(graphrnn.datasets.CaptionFolder, datasets/caption_folder.md); only BLEU is reported there.

    graphrnn train captioning --out runs/captioning
        # 12 epochs, 7.3 CPU-minutes; test scenes with 3-4 objects, greedy: BLEU-4 0.905,
        # object F1 0.991 (all test scenes: BLEU-4 0.904, F1 0.993)
    graphrnn train captioning --no-attention --out runs/captioning_mean
        # 4.3 CPU-minutes; 3-4 objects: BLEU-4 0.678, object F1 0.438
    graphrnn evaluate captioning --checkpoint runs/captioning/best.pt --beam 3
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import ConfigError, EvaluateConfig, TrainConfig, option

DATASETS = ("shapes", "coco", "flickr8k")


@dataclass
class Config(TrainConfig):
    epochs: int = option(12, "training epochs", min=1)
    dataset: str = option("shapes", "generated scenes, or your COCO / Flickr8k folder (--root)",
                          choices=DATASETS)
    train_size: int = option(4000, "training scenes (shapes) or at most this many images "
                             "(0: all)", min=0)
    val_size: int = option(500, "validation scenes / images (0: all)", min=0)
    test_size: int = option(1000, "test scenes / images (0: all)", min=0)
    image_size: int = option(64, "images are H = W = this many pixels", min=32)
    references: int = option(5, "reference captions per generated scene", min=1)
    attention: bool = option(True, "soft attention over the regions (--no-attention: the mean "
                             "region at every step)")
    channels: list[int] = option([16, 32, 64], "output channels of the CNN's stages (each "
                                 "halves the image)")
    hidden: int = option(128, "LSTM units (and attention width)", min=1)
    embedding_dim: int = option(64, "word embedding size", min=1)
    dropout: float = option(0.2, "dropout before the output layer", min=0, max=0.99)
    doubly_stochastic: float = option(0.0, "weight of the doubly stochastic attention "
                                      "regulariser, sum_i (1 - sum_t alpha_ti)^2 (0: off)", min=0)
    min_freq: int = option(5, "COCO / Flickr8k: keep words seen this often in training", min=1)
    lr: float = option(3e-3, "learning rate (Adam, cosine-annealed to 0)", positive=True)
    batch_size: int = option(32, "images per batch", min=1)
    max_len: int = option(40, "longest caption generated, in words", min=1)
    beam: int = option(3, "beam width of the test score", min=1)
    examples: int = option(4, "attention PNGs written (test images with 3-4 objects)", min=0)


@dataclass
class Evaluate(EvaluateConfig):
    beam: int = option(3, "beam width", min=1)
    examples: int = option(4, "attention PNGs written into --out", min=0)


# ------------------------------------------------------------------------------------------------
# data

def _check(config: Config) -> None:
    if config.dataset != "shapes":
        if config.root is None:
            raise ConfigError(f"--dataset {config.dataset} needs --root FOLDER (your copy; see "
                              "datasets/caption_folder.md)")
        if not Path(config.root).is_dir():
            raise ConfigError(f"--root {config.root}: no such folder")
    elif config.root is not None:
        raise ConfigError("--root is for --dataset coco or flickr8k; the shapes are generated")
    if config.image_size // 2 ** len(config.channels) < 1:
        raise ConfigError(f"--channels {config.channels}: {len(config.channels)} stages halve "
                          f"a {config.image_size}-pixel image to nothing")


def _splits(config: Config, names=("train", "val", "test")) -> dict:
    sizes = {"train": config.train_size, "val": config.val_size, "test": config.test_size}
    if config.dataset == "shapes":
        from ..datasets.shape_scenes import ShapeScenes

        return {s: ShapeScenes(s, sizes[s] or None, config.seed, config.image_size,
                               captions_per_image=config.references) for s in names}
    from ..datasets.caption_folder import CaptionFolder

    return {s: CaptionFolder(config.root, config.dataset, s, config.image_size,
                             limit=sizes[s] or None) for s in names}


def _tokens(text: str) -> list[str]:
    from ..datasets.text import tokenize

    return tokenize(text.lower(), "word", backend="rule")


def _vocab(config: Config, train_set):
    from ..datasets.text import Vocab

    if config.dataset == "shapes":
        return Vocab(train_set.vocabulary())
    captions = (_tokens(c) for path, caps in train_set.items for c in caps)
    return Vocab.build(captions, min_freq=config.min_freq)


class _Collate:
    """Items -> :class:`CaptionBatch`: images as floats in [0, 1], one reference per image
    (drawn at random when ``random``, from torch's generator, else the first)."""

    def __init__(self, vocab, random: bool):
        self.vocab, self.random = vocab, random

    def __call__(self, items):
        import torch

        from ..datasets.text import pad_sequences
        from ..models.captioner import CaptionBatch

        images = torch.stack([item[0] for item in items]).float() / 255.0
        picks = [int(torch.randint(len(item[1]), ())) if self.random else 0 for item in items]
        ids = [self.vocab.encode(_tokens(item[1][k]), add_bos=True, add_eos=True)
               for item, k in zip(items, picks)]
        return CaptionBatch(images, pad_sequences(ids, self.vocab.pad_index)[0])


def build_model(config: Config, vocab):
    """The captioner of ``config`` over ``vocab`` (fresh weights)."""
    from ..models.captioner import Captioner

    return Captioner(len(vocab), config.embedding_dim, config.hidden, config.attention,
                     config.channels, dropout=config.dropout, pad=vocab.pad_index,
                     bos=vocab.bos_index, eos=vocab.eos_index)


# ------------------------------------------------------------------------------------------------
# scores

def _captions(model, dataset, vocab, device, beam: int, max_len: int, batch_size: int = 250):
    """Generated captions (strings) of every item of ``dataset``."""
    import torch

    model.eval()
    out = []
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        images = torch.stack([item[0] for item in items]).float().to(device) / 255.0
        for ids in model.generate(images, max_len, beam):
            out.append(" ".join(vocab.decode(ids)))
    return out


def _score(hypotheses, dataset, indices=None) -> dict:
    """BLEU-1..4 against every reference (and, for scenes, the object scores) of the items at
    ``indices`` (default: all)."""
    from ..tasks.bleu import bleu_1_to_4

    indices = range(len(dataset)) if indices is None else indices
    hyps = [hypotheses[i] for i in indices]
    refs = [[" ".join(_tokens(c)) for c in dataset.items[i][1]] for i in indices]
    scores = bleu_1_to_4(hyps, refs) if hyps else {}
    if hasattr(dataset, "parse_caption") and hyps:
        from ..datasets.shape_scenes import object_scores

        scores.update(object_scores(hyps, [dataset.items[i].objects for i in indices]))
    return scores


def _many(dataset) -> list[int] | None:
    """Indices of the scenes with 3-4 objects (None for photo sets)."""
    if not hasattr(dataset, "parse_caption"):
        return None
    return [i for i, item in enumerate(dataset.items) if len(item.objects) >= 3]


def _test_scores(model, test, vocab, device, beam: int, max_len: int) -> dict:
    results = {}
    for name, width in (("greedy", 1), (f"beam{beam}", beam)):
        hyps = _captions(model, test, vocab, device, width, max_len)
        for key, value in _score(hyps, test).items():
            results[f"{name}_{key}"] = value
        many = _many(test)
        if many is not None:
            for key, value in _score(hyps, test, many).items():
                results[f"{name}_3to4_{key}"] = value
        if width == 1:
            results["examples"] = [{"caption": hyps[i], "references": test.items[i][1][:2]}
                                   for i in (many or range(len(test)))[:3]]
    many = _many(test)
    if many is not None and test.captions_per_image > 1:
        # how well one reference scores against the others: what a perfect captioner that
        # picks paraphrases at random would get (against one reference fewer)
        from ..tasks.bleu import corpus_bleu

        held = [test.items[i].captions[0] for i in many]
        rest = [test.items[i].captions[1:] for i in many]
        results["reference_3to4_bleu4"] = corpus_bleu(held, rest).score
    return results


def _summary(results: dict, beam: int) -> str:
    def row(prefix: str) -> str:
        parts = [f"BLEU-4 {results[f'{prefix}_bleu4']:.3f}"]
        if f"{prefix}_f1" in results:
            parts.append(f"object F1 {results[f'{prefix}_f1']:.3f}")
        return ", ".join(parts)

    lines = [f"  greedy: all {row('greedy')}", f"  beam {beam}: all {row(f'beam{beam}')}"]
    if "greedy_3to4_bleu4" in results:
        lines[0] += f"; 3-4 objects {row('greedy_3to4')}"
        lines[1] += f"; 3-4 objects {row(f'beam{beam}_3to4')}"
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# attention pictures

def plot_attention(image, words, alphas, grid: tuple[int, int], path, title: str | None = None,
                   columns: int = 6):
    """The image, then the image under the attention map of each generated word.

    Args:
        image: (3, H, W) uint8. words: the caption. alphas: (len(words), H' * W') weights.
        grid: ``(H', W')`` of the regions. path: where the PNG goes.
    """
    import textwrap

    import numpy as np
    import torch.nn.functional as F
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    h, w = image.shape[1:]
    if len(alphas) != len(words):
        raise ValueError(f"plot_attention: {len(words)} words but {len(alphas)} attention maps")
    if words:  # each map upsampled to the image and scaled to a maximum of 1
        maps = alphas.detach().float().cpu().view(len(words), 1, *grid)
        maps = F.interpolate(maps, size=(h, w), mode="bilinear", align_corners=False)[:, 0]
        maps = maps / maps.flatten(1).max(1).values.clamp_min(1e-12)[:, None, None]
    picture = image.permute(1, 2, 0).float().numpy() / 255.0
    panels = len(words) + 1
    rows = (panels + columns - 1) // columns
    fig = Figure(figsize=(1.6 * columns, 1.75 * rows + (0.3 if title else 0)))
    FigureCanvasAgg(fig)
    for k in range(panels):
        ax = fig.add_subplot(rows, columns, k + 1)
        ax.set_axis_off()
        if k == 0:
            ax.imshow(picture, interpolation="nearest")
            ax.set_title("image", fontsize=9)
            continue
        # a white glow where the word looks (the background is often black, so dimming the
        # rest, as Xu et al.'s figures do, would not show)
        glow = np.ones((h, w, 4))
        glow[..., 3] = 0.7 * maps[k - 1].numpy()
        ax.imshow(picture, interpolation="nearest")
        ax.imshow(glow, interpolation="bilinear")
        ax.set_title(words[k - 1], fontsize=9)
    if title:
        fig.suptitle("\n".join(textwrap.wrap(title, 14 * columns)), fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return fig


def _write_examples(model, test, vocab, device, count: int, out, max_len: int) -> list[str]:
    if not count or not model.use_attention or out is None:
        return []
    import torch

    indices = (_many(test) or list(range(len(test))))[:count]
    images = torch.stack([test[i][0] for i in indices]).float().to(device) / 255.0
    grid = model.grid_size(*images.shape[2:])
    paths = []
    model.eval()
    for k, (i, (ids, alphas)) in enumerate(zip(indices, model.attend(images, max_len))):
        path = Path(out) / f"attention_{k}.png"
        words = [vocab.lookup_token(i) for i in ids]  # specials shown too, if generated
        plot_attention(test[i][0], words, alphas, grid, path,
                       title=f"generated: {' '.join(words)}")
        paths.append(str(path))
    return paths


# ------------------------------------------------------------------------------------------------
# commands

def train(config: Config) -> dict:
    import torch
    from torch.utils.data import DataLoader

    from ..models.captioner import caption_step
    from ..train import Trainer, evaluate, seed_everything
    from .runtime import Timer, setup, trainer_options

    _check(config)
    device = setup(config)
    if config.quick:
        config.train_size, config.val_size, config.test_size = 128, 16, 24
        config.channels, config.hidden, config.embedding_dim = [8, 16], 32, 16
        config.image_size, config.max_len = 32, min(config.max_len, 24)
        config.examples = min(config.examples, 1)
    timer = Timer()
    data = _splits(config)
    vocab = _vocab(config, data["train"])
    seed_everything(config.seed)
    model = build_model(config, vocab)
    train_loader = DataLoader(data["train"], batch_size=config.batch_size, shuffle=True,
                              collate_fn=_Collate(vocab, True),
                              generator=torch.Generator().manual_seed(config.seed))
    val_loader = DataLoader(data["val"], batch_size=250, collate_fn=_Collate(vocab, False))

    def step(model, batch):
        return caption_step(model, batch, config.doubly_stochastic)

    def validate(model, loader):
        scores = evaluate(model, loader, step, device=device)
        hyps = _captions(model, data["val"], vocab, device, 1, config.max_len)
        scores.update(_score(hyps, data["val"]))
        return scores

    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    trainer = Trainer(model, optimizer, step, scheduler=scheduler, evaluate_fn=validate,
                      monitor="val_bleu4", mode="max", clip_grad_norm=5.0, restore_best=True,
                      vocab=vocab.to_list(), **trainer_options("captioning", config, device))
    history = trainer.fit(train_loader, val_loader)
    train_seconds = timer.seconds
    results = _test_scores(trainer.model, data["test"], vocab, device, config.beam,
                           config.max_len)
    pictures = _write_examples(trainer.model, data["test"], vocab, device, config.examples,
                               config.out, config.max_len)
    kind = "attention" if config.attention else "mean region (no attention)"
    print(f"captioning ({config.dataset}, {kind}): {len(history)} epochs in {train_seconds:.0f} "
          f"s; test ({len(data['test'])} images):\n{_summary(results, config.beam)}")
    return {"epochs": len(history), "seconds": train_seconds, "attention": config.attention,
            **results, "pictures": pictures}


def evaluate(config: Evaluate) -> dict:
    from ..datasets.text import Vocab
    from .runtime import open_trained

    device, path, ckpt, trained = open_trained(config, "captioning", Config)
    if config.root is not None:
        trained.root = config.root
    _check(trained)
    vocab = Vocab.from_list(ckpt["vocab"])
    test = _splits(trained, ("test",))["test"]
    model = build_model(trained, vocab).to(device)
    model.load_state_dict(ckpt["model"])
    results = _test_scores(model, test, vocab, device, config.beam, trained.max_len)
    results["pictures"] = _write_examples(model, test, vocab, device, config.examples,
                                          config.out, trained.max_len)
    print(f"captioning test ({path}, {len(test)} images):\n{_summary(results, config.beam)}")
    return results


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate)}
