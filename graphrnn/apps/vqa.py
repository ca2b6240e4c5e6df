"""Visual question answering on easy-VQA: a CNN reads the picture, an LSTM the question.

easy-VQA (the easy-vqa package, MIT) has 4,000 train and 1,000 test 64x64 pictures of one
coloured shape each and 38,575 / 9,673 questions about them ("what color is the shape?", "is
there not a red circle?"), with 13 answers. A seeded tenth of the train *pictures*, with all their
questions, is held out for validation, which picks the best epoch; the test split is read once, at
the end. Accuracy is reported overall and by kind of question (shape, color, yes/no).

The model (graphrnn.models.vqa.VQANet): a ConvEncoder over the picture and a graphrnn.nn.LSTM
along the question's words (--question-encoder bag: a bag of words instead), fused by
concatenation and element-wise product, then a classifier over the answers. --inputs question or
image switches a branch off; --compare trains all three into OUT/both, OUT/question, OUT/image
and prints them side by side. Needs the vision extra: pip install "graphrnn[vision]".

    graphrnn train vqa --compare --out runs/vqa      # the table of the README
    # test accuracy (shape / color / yes-no), 10 epochs each, one thread:
    #   question + image 99.96% (99.84 / 100.00 / 99.97), 593 s
    #   question only    67.04% (35.80 / 11.33 / 82.54), 233 s
    #   image only       36.44% ( 0.00 /  0.00 / 49.40), 554 s
    graphrnn train vqa --question-encoder bag --out runs/vqa/both_bag   # 100.00%, 691 s
    graphrnn evaluate vqa --checkpoint runs/vqa/both/best.pt
    graphrnn generate vqa --checkpoint runs/vqa/both/best.pt --image shape.png \\
        --question "what color is the shape?"
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from .config import ConfigError, EvaluateConfig, GenerateConfig, TrainConfig, option

APP = "vqa"
INPUTS = ("both", "question", "image")
LABELS = {"both": "question + image", "question": "question only", "image": "image only"}


@dataclass
class Config(TrainConfig):
    epochs: int = option(10, "training epochs", min=1)
    inputs: str = option("both", "the model's inputs: both, question (no picture) or image (no "
                         "question)", choices=INPUTS)
    compare: bool = option(False, "train all three --inputs into OUT/both, OUT/question, "
                           "OUT/image and print them side by side")
    question_encoder: str = option("chain", "chain: an RNN along the words; bag: mean of the "
                                   "word embeddings", choices=("chain", "bag"))
    cell: str = option("lstm", "RNN of the chain encoder", choices=("lstm", "gru"))
    embedding_dim: int = option(32, "word-embedding size", min=1)
    hidden: int = option(64, "RNN state size", min=1)
    channels: list[int] = option([16, 32, 64, 64], "CNN stage widths (each stage halves the "
                                 "picture)", min=1)
    image_pool: str = option("max", "picture vector: max over the CNN grid's positions, or the "
                             "flattened grid", choices=("max", "flatten"))
    fusion: int = option(128, "size of the question and picture vectors", min=1)
    dropout: float = option(0.0, "dropout before the classifier", min=0, max=0.9)
    lr: float = option(3e-3, "Adam learning rate (cosine decay to 0)", positive=True)
    weight_decay: float = option(0.0, "decoupled weight decay (AdamW)", min=0)
    batch_images: int = option(8, "pictures per batch; each brings all its questions (~10)",
                               min=1)
    val_fraction: float = option(0.1, "share of train pictures held out for validation",
                                 positive=True, max=0.5)
    gallery: int = option(8, "test pictures drawn in OUT/vqa_gallery.png (0: none)", min=0)


@dataclass
class Evaluate(EvaluateConfig):
    gallery: int = option(8, "test pictures drawn in OUT/vqa_gallery.png (0: none)", min=0)


@dataclass
class Generate(GenerateConfig):
    image: str | None = option(None, "the picture to ask about (a PNG or JPEG; resized to the "
                               "trained size)", path="in_file")
    question: str = option("what color is the shape?", "the question")
    top: int = option(3, "answers shown, most probable first", min=1)


# ---- data --------------------------------------------------------------------------------------

def _splits(config, names=("train", "val", "test")) -> dict:
    from ..datasets.easy_vqa import EasyVQA

    return {s: EasyVQA(config.root, s, val_fraction=config.val_fraction, split_seed=0)
            for s in names}


def _loader(collate, rows: int | None = None, batch_images: int = 100, seed: int | None = None):
    """Batches of ``batch_images`` pictures (the first ``rows`` of them) with their questions;
    shuffled from ``seed`` when given."""
    import torch
    from torch.utils.data import DataLoader

    rows = collate.num_images if rows is None else min(rows, collate.num_images)
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    return DataLoader(range(rows), batch_size=batch_images, shuffle=seed is not None,
                      collate_fn=collate, generator=gen)


def _build(settings, vocab_size: int, num_answers: int, image_size):
    from ..models.vqa import VQANet

    return VQANet(vocab_size, num_answers, inputs=settings.inputs,
                  question_encoder=settings.question_encoder, cell=settings.cell,
                  embedding_dim=settings.embedding_dim, hidden_size=settings.hidden,
                  channels=settings.channels, image_size=image_size,
                  image_pool=settings.image_pool,
                  fusion_size=settings.fusion, dropout=settings.dropout)


def _percent(scores: dict) -> str:
    return (f"{100 * scores['acc']:.2f}% (shape {100 * scores['acc_shape']:.2f}%, color "
            f"{100 * scores['acc_color']:.2f}%, yes/no {100 * scores['acc_yes_no']:.2f}%; "
            f"{scores['questions']} questions)")


# ---- train -------------------------------------------------------------------------------------

def _compare(config: Config) -> dict:
    results = {}
    for inputs in INPUTS:
        print(f"vqa --compare: training the {LABELS[inputs]} model")
        results[inputs] = train(dataclasses.replace(config, inputs=inputs, compare=False,
                                                    out=str(Path(config.out) / inputs)))
    print(f"\n{'model':<18} {'test acc':>9} {'shape':>8} {'color':>8} {'yes/no':>8} "
          f"{'epochs':>6} {'seconds':>8}")
    for inputs, r in results.items():
        t = r["test"]
        print(f"{LABELS[inputs]:<18} {100 * t['acc']:>8.2f}% {100 * t['acc_shape']:>7.2f}% "
              f"{100 * t['acc_color']:>7.2f}% {100 * t['acc_yes_no']:>7.2f}% "
              f"{r['epochs']:>6} {r['seconds']:>8.0f}")
    return results


def train(config: Config) -> dict:
    if config.compare:
        return _compare(config)
    import torch

    from ..datasets.easy_vqa import VQACollate, question_tokens
    from ..datasets.text import Vocab
    from ..models.vqa import evaluate_vqa, vqa_step
    from ..train import Trainer, seed_everything
    from .runtime import Timer, setup, trainer_options

    device = setup(config)
    timer = Timer()
    data = _splits(config)
    vocab = Vocab.build(question_tokens(q) for q in data["train"].questions)
    collates = {s: VQACollate(ds, vocab) for s, ds in data.items()}
    cap = {"train": 60, "val": 20, "test": 40} if config.quick else {}
    seed_everything(config.seed)
    image_size = tuple(data["train"].images.shape[2:])
    model = _build(config, len(vocab), len(data["train"].answers), image_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    train_loader = _loader(collates["train"], cap.get("train"), config.batch_images, config.seed)
    steps = config.epochs * len(train_loader)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.lr, total_steps=steps,
                                                    pct_start=0.1)
    options = trainer_options(APP, config, device)
    options["config"].update(answers=data["train"].answers, image_size=list(image_size))
    trainer = Trainer(model, optimizer, vqa_step, scheduler=scheduler, scheduler_interval="step",
                      monitor="val_acc", mode="max", clip_grad_norm=5.0, restore_best=True,
                      vocab=vocab.to_list(), **options)
    history = trainer.fit(train_loader, _loader(collates["val"], cap.get("val")))
    test = evaluate_vqa(trainer.model, _loader(collates["test"], cap.get("test")), device)
    print(f"vqa ({LABELS[config.inputs]}): {len(history)} epochs in {timer.seconds:.0f} s; "
          f"best val accuracy {100 * trainer.best_score:.2f}% (epoch {trainer.best_epoch}); "
          f"test accuracy {_percent(test)}")
    if config.gallery:
        _gallery(trainer.model, data["test"], vocab, config.gallery, config.seed,
                 Path(config.out) / "vqa_gallery.png", device)
    return {"inputs": config.inputs, "epochs": len(history), "seconds": timer.seconds,
            "best_epoch": trainer.best_epoch, "val_acc": trainer.best_score, "test": test}


# ---- evaluate and generate ---------------------------------------------------------------------

def _load(config):
    """``(model, vocab, answers, trained config, device)`` from ``--checkpoint``."""
    from ..datasets.text import Vocab
    from .runtime import open_trained

    device, path, ckpt, trained = open_trained(config, APP, Config)
    vocab = Vocab.from_list(ckpt["vocab"])
    answers, image_size = ckpt["config"]["answers"], tuple(ckpt["config"]["image_size"])
    model = _build(trained, len(vocab), len(answers), image_size).to(device)
    model.load_state_dict(ckpt["model"])
    return model.eval(), vocab, answers, trained, device


def evaluate(config: Evaluate) -> dict:
    from ..datasets.easy_vqa import VQACollate
    from ..models.vqa import evaluate_vqa

    model, vocab, answers, trained, device = _load(config)
    trained.root = config.root or trained.root
    test = _splits(trained, ("test",))["test"]
    if test.answers != answers:
        raise ValueError(f"the test data's answers ({', '.join(test.answers)}) differ from the "
                         f"checkpoint's ({', '.join(answers)})")
    scores = evaluate_vqa(model, _loader(VQACollate(test, vocab)), device)
    print(f"vqa test ({LABELS[trained.inputs]}): accuracy {_percent(scores)}")
    if config.gallery:
        _gallery(model, test, vocab, config.gallery, 0, Path(config.out) / "vqa_gallery.png",
                 device)
    return scores


def _read_picture(path: str, size) -> object:
    """``uint8 (1, 3, H, W)`` of the picture at ``path``, resized to ``size``."""
    import numpy as np
    import torch

    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError('reading pictures needs Pillow: pip install "graphrnn[vision]"') from err
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            if im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), Image.BILINEAR)
            array = np.asarray(im)
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"--image {path}: cannot be read as an image ({err})") from None
    return torch.from_numpy(array.copy()).permute(2, 0, 1).unsqueeze(0)


def _ask(model, vocab, images, questions: list[str], device):
    """Answer probabilities (B, A) for ``questions``, question ``i`` about picture row ``i``."""
    import torch

    from ..datasets.easy_vqa import question_tokens
    from ..datasets.text import pad_sequences

    ids, lengths = pad_sequences([vocab.encode(question_tokens(q)) for q in questions])
    with torch.no_grad():
        logits = model(images.to(device), ids.to(device), lengths.to(device))
    return logits.softmax(1).cpu()


def generate(config: Generate) -> dict:
    from ..datasets.easy_vqa import question_tokens

    if config.image is None:
        raise ConfigError("--image is required: the picture to ask about")
    words = question_tokens(config.question)
    if not words:
        raise ConfigError(f"--question {config.question!r}: no words")
    model, vocab, answers, trained, device = _load(config)
    unknown = sorted({w for w in words if w not in vocab})
    picture = _read_picture(config.image, model.image_size if trained.inputs != "question"
                            else (64, 64))
    probs = _ask(model, vocab, picture, [config.question], device)[0]
    top = probs.topk(min(config.top, len(answers)))
    ranked = [(answers[i], float(p)) for p, i in zip(top.values.tolist(), top.indices.tolist())]
    print(f"{config.image}: {config.question}")
    if unknown:
        print(f"  (words not seen in training, read as <unk>: {', '.join(unknown)})")
    for answer, p in ranked:
        print(f"  {answer:<10} {p:.4f}" if p >= 1e-4 else f"  {answer:<10} {p:.1e}")
    return {"image": config.image, "question": config.question, "answers": ranked,
            "unknown_words": unknown}


def _predictions(model, data, vocab, device):
    """The answer the model gives to every question of ``data``, (Q,) in the data set's order."""
    import torch

    from ..datasets.easy_vqa import VQACollate

    collate = VQACollate(data, vocab)
    order = torch.cat(collate.questions_of)  # the loader's question order
    with torch.no_grad():
        guesses = torch.cat([model(b.images.to(device), b.questions.to(device),
                                   b.lengths.to(device), b.image_index.to(device)).argmax(1).cpu()
                             for b in _loader(collate)])
    return torch.empty_like(guesses).index_put_((order,), guesses)


def _gallery(model, data, vocab, count: int, seed: int, path: Path, device) -> None:
    """A grid of ``count`` test pictures with one question each, the right answer and the
    model's, written to ``path``: up to half of them questions the model got wrong (red), the
    rest drawn kind by kind (shape, color, yes/no)."""
    import random

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..datasets.easy_vqa import KINDS

    model.eval()
    rng = random.Random(seed)
    wrong = (_predictions(model, data, vocab, device) != data.targets).nonzero().flatten()
    picked = rng.sample(wrong.tolist(), min(len(wrong), count // 2))
    seen = {int(data.image_index[i]) for i in picked}
    by_kind = {k: [i for i, kind in enumerate(data.kinds) if kind == k] for k in KINDS}
    while len(picked) < min(count, len(data)):
        pool = by_kind[KINDS[len(picked) % len(KINDS)]] or range(len(data))
        for _ in range(100):  # a picture not shown yet, when there is one
            i = rng.choice(pool)
            if int(data.image_index[i]) not in seen:
                break
        seen.add(int(data.image_index[i]))
        picked.append(i)
    rows = data.image_index[picked]
    probs = _ask(model.eval(), vocab, data.images[rows], [data.questions[i] for i in picked],
                 device)
    cols = min(4, len(picked))
    fig, axes = plt.subplots((len(picked) + cols - 1) // cols, cols, squeeze=False,
                             figsize=(3.2 * cols, 3.6 * ((len(picked) + cols - 1) // cols)))
    for ax in axes.flat:
        ax.axis("off")
    for ax, i, p in zip(axes.flat, picked, probs):
        guess, gold = data.answers[int(p.argmax())], data.answers[int(data.targets[i])]
        ax.imshow(data.images[data.image_index[i]].permute(1, 2, 0).numpy())
        ax.set_title(f"{data.questions[i]}\nanswer: {gold}\npredicted: {guess} ({p.max():.2f})",
                     fontsize=8, color="green" if guess == gold else "red")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate),
            "generate": (Generate, generate)}
