"""BiLSTM (optionally BiLSTM-CRF) tagger on CoNLL-2000: chunks, POS tags, or BMES segmentation.

Tasks (``--task``):

* ``chunk``: IOB2 chunk tags from words, character CNN features and the POS column the data ships
  with (tags from the Brill tagger, as in the shared task); scored by chunk F1 as ``conlleval``.
* ``pos``: POS tags from words and character features; scored by token accuracy.
* ``seg``: Chinese word segmentation as BMES character tagging, on a tiny embedded sample (or on
  ``--seg-train``/``--seg-test``, space-separated segmented text such as the SIGHAN bakeoff files);
  scored by word F1.

The dev split picks the best epoch; the test split is scored once with those weights::

    graphrnn train conll_chunking --task chunk --crf --epochs 30
    graphrnn evaluate conll_chunking --task chunk --checkpoint runs/conll_chunking/best.pt
"""
from __future__ import annotations

import time

import torch
from torch.utils.data import DataLoader

from graphrnn.datasets.conll import CoNLL2000, read_segmented, words_to_bmes
from graphrnn.tasks.tagging import (BiLSTMTagger, TaggingEncoder, evaluate_tagger, normalize_word,
                                    tagging_step)
from graphrnn.train import (Trainer, apply_threads, example_parser, load_for_evaluation,
                            resolve_device, write_results)
from graphrnn.train.rng import seed_everything
from graphrnn.io import shared_data

DESCRIPTION = "BiLSTM(-CRF) tagger: CoNLL-2000 chunks (conlleval F1), POS tags, BMES segmentation"
ROOT = str(shared_data("tagging", "conll2000"))

# A tiny hand-segmented sample for the segmentation demo (everyday sentences, words separated by
# spaces). Enough to show the tagger learning word boundaries, not a benchmark.
SEG_SAMPLE = """\
我们 爱 北京 天安门
今天 天气 很 好
我 喜欢 学习 中文
他 在 大学 学习 计算机 科学
我们 明天 去 公园 散步
这 是 一 本 很 有意思 的 书
她 每天 早上 喝 咖啡
学生 们 在 教室 里 看书
我 的 朋友 住 在 上海
中国 是 一个 历史 悠久 的 国家
他们 正在 讨论 这个 问题
老师 给 我们 讲 了 一个 故事
我们 一起 去 吃饭 吧
这个 城市 的 交通 很 方便
他 昨天 买 了 一 台 电脑
北京 的 秋天 非常 美丽
我 想 学习 机器 学习
妈妈 在 厨房 做饭
孩子 们 在 公园 里 玩
这 家 饭馆 的 菜 很 好吃
我们 的 学校 有 很多 学生
他 喜欢 在 晚上 看 电影
天气 预报 说 明天 会 下雨
我 每天 坐 地铁 上班
朋友 们 在 一起 聊天
图书馆 里 有 很多 书
他 是 一个 很 好 的 老师
我们 明天 一起 学习 中文
她 喜欢 喝 茶
上海 是 一个 大 城市
"""


def _segmented(lines):
    out = []
    for words in lines:
        chars, tags = words_to_bmes(words)
        out.append((chars, tags, None))
    return out


def load_splits(args):
    """(train, dev, test): lists of ``(tokens, tags, features or None)``."""
    if args.task == "seg":
        if args.seg_train:
            train = _segmented(read_segmented(args.seg_train))
            test = _segmented(read_segmented(args.seg_test or args.seg_train))
            cut = max(1, len(train) // 10)
            return train[cut:], train[:cut], test
        lines = [line.split() for line in SEG_SAMPLE.strip().splitlines()]
        data = _segmented(lines)
        return data[:24], data[24:27], data[27:]
    root = args.root or ROOT
    splits = []
    for split in ("train", "dev", "test"):
        items = []
        for s in CoNLL2000(root, split):
            if args.task == "chunk":
                items.append((s.words, s.chunks, s.pos if args.pos_features else None))
            else:
                items.append((s.words, s.pos, None))
        splits.append(items)
    if args.quick:
        splits = [splits[0][:400], splits[1][:100], splits[2][:200]]
    return tuple(splits)


def build_model(config: dict, enc: TaggingEncoder) -> BiLSTMTagger:
    return BiLSTMTagger(len(enc.words), len(enc.tags), embedding_dim=config["embedding_dim"],
                        hidden_size=config["hidden"], num_layers=config["layers"],
                        dropout=config["dropout"],
                        num_chars=len(enc.chars) if enc.chars is not None else 0,
                        char_channels=config["char_channels"],
                        num_features=len(enc.features) if enc.features is not None else 0,
                        crf=config["crf"])


def _loader(enc, items, batch_size, shuffle, seed=0):
    encoded = [enc.encode(t, y, f) for t, y, f in items]
    gen = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(encoded, batch_size=batch_size, shuffle=shuffle, collate_fn=enc.collate,
                      generator=gen)


def _parser(action: str):
    parser = example_parser("conll_chunking", __doc__, epochs=30, root=ROOT)
    parser.add_argument("--task", choices=("chunk", "pos", "seg"), default="chunk")
    parser.add_argument("--crf", action="store_true", help="add a CRF output layer")
    parser.add_argument("--no-chars", dest="chars", action="store_false",
                        help="no character CNN features")
    parser.add_argument("--no-pos-features", dest="pos_features", action="store_false",
                        help="chunking: do not feed the POS column as an input feature")
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--embedding-dim", type=int, default=100)
    parser.add_argument("--char-channels", type=int, default=50)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=0.0,
                        help="decoupled weight decay (AdamW; 0 is plain Adam)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--patience", type=int, default=None)
    parser.add_argument("--seg-train", default=None, help="segmented text for --task seg")
    parser.add_argument("--seg-test", default=None)
    if action == "evaluate":
        parser.add_argument("--checkpoint", default=None,
                            help="checkpoint to score (default: OUT/best.pt)")
    return parser


def _scheme(task: str) -> str:
    return {"chunk": "iob", "pos": "none", "seg": "bmes"}[task]


def _report(task: str, scores: dict) -> str:
    if task == "pos":
        return f"accuracy {100 * scores['acc']:.2f}%"
    return (f"F1 {100 * scores['f1']:.2f} (precision {100 * scores['precision']:.2f}, recall "
            f"{100 * scores['recall']:.2f}), token accuracy {100 * scores['acc']:.2f}%")


def train(argv=None) -> int:
    args = _parser("train").parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    if args.quick:
        args.hidden, args.embedding_dim, args.char_channels = 32, 32, 16
    start = time.perf_counter()
    train_items, dev_items, test_items = load_splits(args)
    enc = TaggingEncoder([t for t, _, _ in train_items], [y for _, y, _ in train_items],
                         [f for _, _, f in train_items] if train_items[0][2] is not None else None,
                         chars=args.chars, normalize=str if args.task == "seg" else normalize_word,
                         tag_set=sorted({t for items in (dev_items, test_items)
                                         for _, y, _ in items for t in y}))
    config = {"task": args.task, "crf": args.crf, "hidden": args.hidden, "layers": args.layers,
              "embedding_dim": args.embedding_dim, "char_channels": args.char_channels,
              "dropout": args.dropout, "quick": args.quick, "encoder": enc.state_dict()}
    seed_everything(args.seed)
    model = build_model(config, enc)
    scheme = _scheme(args.task)
    monitor = "val_acc" if scheme == "none" else "val_f1"
    bs = args.batch_size if args.task != "seg" or args.seg_train else 4
    train_loader = _loader(enc, train_items, bs, True, args.seed)
    dev_loader = _loader(enc, dev_items, 256, False)
    test_loader = _loader(enc, test_items, 256, False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr,
                                  weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5,
                                                           patience=2)

    def evaluate_fn(m, loader):
        return evaluate_tagger(m, loader, enc.tags, scheme)

    trainer = Trainer(model, optimizer, tagging_step, scheduler=scheduler, evaluate_fn=evaluate_fn,
                      max_epochs=args.epochs, monitor=monitor, mode="max", patience=args.patience,
                      clip_grad_norm=5.0, seed=args.seed, device=device, out_dir=args.out,
                      resume=args.resume, config=config, restore_best=True,
                      progress=not args.quick, tensorboard=False)
    history = trainer.fit(train_loader, dev_loader)
    test = evaluate_tagger(trainer.model, test_loader, enc.tags, scheme, device=device)
    elapsed = time.perf_counter() - start
    best = trainer.best_epoch
    print(f"{args.task}{' +CRF' if args.crf else ''}: {len(history)} epochs in {elapsed:.0f} s; "
          f"best dev epoch {best} ({monitor} {trainer.best_score:.4f}); "
          f"test {_report(args.task, test)}")
    write_results(args.out, "test_scores.json",
        {"task": args.task, "crf": args.crf, "epochs": len(history), "best_epoch": best,
         "seconds": elapsed, "test": test})
    return 0


def evaluate(argv=None) -> int:
    args = _parser("evaluate").parse_args(argv)
    device, ckpt, path = load_for_evaluation(args)
    config = ckpt["config"]
    args.task = config["task"]
    enc = TaggingEncoder.from_state_dict(
        config["encoder"], normalize=str if args.task == "seg" else normalize_word)
    model = build_model(config, enc)
    model.load_state_dict(ckpt["model"])
    model.to(device)
    args.pos_features = enc.features is not None
    args.quick = config.get("quick", False)  # score the split the checkpoint was made for
    _, _, test_items = load_splits(args)
    scores = evaluate_tagger(model, _loader(enc, test_items, 256, False), enc.tags,
                             _scheme(args.task), device=device)
    print(f"{args.task} test ({path}): {_report(args.task, scores)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(train())
