"""easy-VQA: questions about a single coloured shape in a 64x64 picture.

Victor Zhou's easy-VQA (MIT; https://github.com/vzhou842/easy-VQA, card ``datasets/easy_vqa.md``)
ships inside the ``easy-vqa`` package: 4,000 train and 1,000 test PNG images and 38,575 / 9,673
generated questions with 13 possible answers (``yes``, ``no``, three shapes, eight colours). Its
folder, and any ``root`` laid out the same way, holds::

    answers.txt                 one answer a line
    train/questions.json        [[question, answer, image id], ...]
    train/images/<id>.png       the picture of image id <id>
    test/...                    the same for the test split

Every line of ``answers.txt`` and every entry of ``questions.json`` is checked; an error names the
file, the line and (for questions) the entry number, what was wrong and what was expected. The
PNGs a split uses are decoded once with Pillow into a ``uint8`` tensor ``(N, 3, H, W)`` kept in
memory for the life of the process (5,000 images take about 2 s and 60 MB).

A question's *kind* follows from its answer: ``"yes/no"``, ``"shape"`` (circle, rectangle,
triangle) or ``"color"`` (any other answer); the data carries no other label of its kind.

Batches group questions by picture (:class:`VQACollate`): a loader draws *images* and every
question about them comes along, so the image encoder runs once per picture, not once per
question (easy-VQA asks about 9.6 questions of each).

``split="val"`` is a seeded ``val_fraction`` of the *train images* with all their questions, and
``split="train"`` the rest, so no validation picture is ever trained on; ``"test"`` is the package's
test split.

Needs the ``vision`` extra (``easy-vqa`` for the default data, Pillow to decode images):
``pip install "graphrnn[vision]"``.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import torch

from .base import FileDataset
from .text import Vocab, pad_sequences

__all__ = ["EasyVQA", "VQAExample", "VQABatch", "VQACollate", "question_tokens", "answer_kind",
           "KINDS", "SHAPES", "read_answers", "read_questions", "load_images"]

EXTRA = 'pip install "graphrnn[vision]"'
KINDS = ("shape", "color", "yes/no")
SHAPES = ("circle", "rectangle", "triangle")
_TOKEN_RE = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


class VQAExample(NamedTuple):
    """One question: the picture (``uint8 (3, H, W)``), the question, the answer's index in
    ``ds.answers``, its kind (one of :data:`KINDS`), the image id, and the row of the picture in
    ``ds.images``."""
    image: torch.Tensor
    question: str
    answer: int
    kind: str
    image_id: int
    image_index: int


def question_tokens(text: str) -> list[str]:
    """Lower-cased words and punctuation: ``"What color?"`` -> ``["what", "color", "?"]``."""
    return _TOKEN_RE.findall(text.lower())


def answer_kind(answer: str) -> str:
    """``"yes/no"``, ``"shape"`` or ``"color"``: the kind of question ``answer`` answers."""
    return "yes/no" if answer in ("yes", "no") else "shape" if answer in SHAPES else "color"


def read_answers(path: str | os.PathLike) -> list[str]:
    """The answers of ``answers.txt``, one a line; an empty or repeated one is a ``ValueError``
    naming the file and line."""
    answers: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            answer = line.strip()
            if not answer:
                raise ValueError(f"{path}:{number}: empty line; expected one answer a line")
            if answer in answers:
                raise ValueError(f"{path}:{number}: answer {answer!r} repeats line "
                                 f"{answers[answer]}; expected each answer once")
            answers[answer] = number
    if not answers:
        raise ValueError(f"{path}: no answers; expected one answer a line")
    return list(answers)


def _entry_lines(path: Path, text: str) -> list[int]:
    """The line each element of the JSON array ``text`` starts on, decoding the elements one by
    one; a syntax error is a ``ValueError`` naming the line and the entry it is in. Only run to
    name the line of an error: ``json.loads`` reads a good file ten times faster."""
    decoder, ws = json.JSONDecoder(), re.compile(r"\s*")
    pos, line, lines = 0, 1, []

    def line_of(at: int) -> int:
        nonlocal pos, line
        line += text.count("\n", pos, at)
        pos = at
        return line

    at = ws.match(text, 0).end()
    if text[at:at + 1] != "[":
        raise ValueError(f"{path}:{line_of(at)}: expected a JSON array [[question, answer, image "
                         f"id], ...], got {text[at:at + 20]!r}")
    at = ws.match(text, at + 1).end()
    while text[at:at + 1] != "]":
        try:
            end = decoder.raw_decode(text, at)[1]
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{err.lineno}: not valid JSON ({err.msg}) in entry "
                             f"{len(lines)}") from None
        lines.append(line_of(at))
        at = ws.match(text, end).end()
        if text[at:at + 1] == ",":
            at = ws.match(text, at + 1).end()
        elif text[at:at + 1] != "]":
            raise ValueError(f"{path}:{line_of(at)}: expected ',' or ']' after entry "
                             f"{len(lines) - 1}, got {text[at:at + 10]!r}")
    if text[at + 1:].strip():
        raise ValueError(f"{path}:{line_of(at + 1)}: text after the closing ']'")
    return lines


def _check_entry(entry, index: dict[str, int]) -> str | None:
    """What is wrong with one ``[question, answer, image id]`` entry, or ``None``."""
    if not isinstance(entry, list) or len(entry) != 3:
        return f" is {json.dumps(entry)[:60]}; expected [question, answer, image id]"
    question, answer, image_id = entry
    if not isinstance(question, str) or not question_tokens(question):
        return f": question {question!r} is not a non-empty string"
    if not isinstance(answer, str) or answer not in index:
        return (f": answer {answer!r} is not one of the {len(index)} answers of answers.txt "
                f"({', '.join(index)})")
    if isinstance(image_id, bool) or not isinstance(image_id, int) or image_id < 0:
        return f": image id {image_id!r} is not an integer >= 0"
    return None


def read_questions(path: str | os.PathLike, answers: Sequence[str]
                   ) -> list[tuple[str, int, int]]:
    """``(question, answer index, image id)`` of every entry of a ``questions.json``.

    Each entry must be ``[question, answer, image id]``: a non-empty string, one of ``answers``,
    and an integer >= 0. Anything else is a ``ValueError`` naming the file, the line the entry
    starts on, the entry's number (from 0) and what was expected.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    try:
        entries = json.loads(text)
    except json.JSONDecodeError:
        _entry_lines(path, text)  # raises, naming the line and the entry
        raise
    if not isinstance(entries, list):
        _entry_lines(path, text)
    index = {a: i for i, a in enumerate(answers)}
    for number, entry in enumerate(entries):
        problem = _check_entry(entry, index)
        if problem:
            line = _entry_lines(path, text)[number]
            raise ValueError(f"{path}:{line}: entry {number}{problem}")
    if not entries:
        raise ValueError(f"{path}: no questions; expected [[question, answer, image id], ...]")
    return [(q, index[a], i) for q, a, i in entries]


_IMAGE_CACHE: dict[tuple, torch.Tensor] = {}


def load_images(folder: str | os.PathLike, ids: Sequence[int]) -> torch.Tensor:
    """Decode ``folder/<id>.png`` for every id into ``uint8 (len(ids), 3, H, W)`` (RGB), once per
    process: a second call with the same files returns the cached tensor.

    Raises ``FileNotFoundError`` naming a missing PNG and ``ValueError`` naming one that cannot be
    decoded or whose size differs from the first's.
    """
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError(f"reading easy-VQA images needs Pillow: {EXTRA}") from err
    import numpy as np

    paths = [Path(folder) / f"{i}.png" for i in ids]
    stamps = []
    for p in paths:
        try:
            st = p.stat()
        except FileNotFoundError:
            raise FileNotFoundError(f"{p}: no such image; its questions need it") from None
        stamps.append((st.st_mtime_ns, st.st_size))
    key = (str(Path(folder).resolve()), tuple(ids), tuple(stamps))
    if key in _IMAGE_CACHE:
        return _IMAGE_CACHE[key]
    arrays, size = [], None
    for p in paths:
        try:
            with Image.open(p) as im:
                array = np.asarray(im.convert("RGB"))
        except (OSError, SyntaxError, ValueError) as err:
            raise ValueError(f"{p}: cannot be read as an image ({err})") from None
        if size is None:
            size = array.shape
        elif array.shape != size:
            raise ValueError(f"{p}: is {array.shape[1]}x{array.shape[0]} pixels; expected "
                             f"{size[1]}x{size[0]} like {paths[0].name}")
        arrays.append(array)
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    while len(_IMAGE_CACHE) >= 3:  # train, val and test of one data set at most
        _IMAGE_CACHE.pop(next(iter(_IMAGE_CACHE)))
    _IMAGE_CACHE[key] = images
    return images


def _package_root() -> Path:
    try:
        import easy_vqa
    except ImportError as err:
        raise ImportError(f"EasyVQA: the easy-VQA data comes with the easy-vqa package: {EXTRA} "
                          "(or give root=, a folder laid out like the package's data/)") from err
    return Path(easy_vqa.__file__).parent / "data"


class EasyVQA(FileDataset):
    """The easy-VQA questions of one split, with their pictures decoded once.

    Args:
        root (str or PathLike, optional): a folder laid out like the package's ``data/``
            (``answers.txt``, ``train/``, ``test/``). (default: the installed ``easy-vqa``
            package's data, md5-checked)
        split (str): ``"train"``, ``"val"`` (held-out train images) or ``"test"``.
            (default: ``"train"``)
        val_fraction (float): the share of train images held out as ``"val"``. (default: ``0.1``)
        split_seed (int): seeds which images are held out. (default: ``0``)
        transform (callable, optional): applied to every :class:`VQAExample` on access.
        check_md5 (bool, optional): check the question and answer files against the package's
            (default: only for the package's own copy).

    Attributes:
        answers (list[str]): the answers, in the order of their indices.
        images (Tensor): ``uint8 (N, 3, H, W)``, every picture the split's questions ask about.
        image_ids (list[int]): the easy-VQA id of each row of ``images``.
        questions (list[str]), targets (Tensor (Q,)), kinds (list[str]),
            image_index (Tensor (Q,)): per question, the row of its picture in ``images``.
    """

    source = "the easy-vqa package (pip install easy-vqa; github.com/vzhou842/easy-VQA)"
    card = "datasets/easy_vqa.md"
    # md5 of easy-vqa 1.0's files (see the card)
    md5 = {"answers.txt": "6e94a22aade1ad48fef5d765b81fde36",
           "train/questions.json": "81b93a0a63e76dce7ef803c59f12390c",
           "test/questions.json": "6a67bf993993ad4594b6d59d54086ffe"}

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train",
                 val_fraction: float = 0.1, split_seed: int = 0,
                 transform: Callable | None = None, check_md5: bool | None = None):
        if split not in ("train", "val", "test"):
            raise ValueError(f"EasyVQA: split must be 'train', 'val' or 'test', got {split!r}")
        if not 0 <= val_fraction < 1:
            raise ValueError(f"EasyVQA: val_fraction must be in [0, 1), got {val_fraction}")
        self.split, self.val_fraction, self.split_seed = split, val_fraction, split_seed
        folder = "test" if split == "test" else "train"
        self.raw_file_names = ("answers.txt", f"{folder}/questions.json")
        if check_md5 is None:
            check_md5 = root is None
        super().__init__(_package_root() if root is None else root, transform, download=False,
                         check_md5=check_md5)

    def process(self) -> list[VQAExample]:
        answers_path, questions_path = self.raw_paths
        self.answers = read_answers(answers_path)
        rows = read_questions(questions_path, self.answers)
        ids = sorted({image_id for _, _, image_id in rows})
        if self.split != "test" and self.val_fraction > 0:
            g = torch.Generator().manual_seed(self.split_seed)
            order = torch.randperm(len(ids), generator=g).tolist()
            held = {ids[i] for i in order[:round(self.val_fraction * len(ids))]}
            keep = held if self.split == "val" else set(ids) - held
            rows = [r for r in rows if r[2] in keep]
            ids = sorted(keep)
        self.image_ids = ids
        self.images = load_images(questions_path.parent / "images", ids)
        row_of = {image_id: i for i, image_id in enumerate(ids)}
        self.questions = [q for q, _, _ in rows]
        self.targets = torch.tensor([a for _, a, _ in rows], dtype=torch.long)
        self.kinds = [answer_kind(self.answers[a]) for _, a, _ in rows]
        self.image_index = torch.tensor([row_of[i] for _, _, i in rows], dtype=torch.long)
        return [VQAExample(self.images[row_of[i]], q, a, kind, i, row_of[i])
                for (q, a, i), kind in zip(rows, self.kinds)]

    def __repr__(self) -> str:
        return (f"EasyVQA({self.split!r}, questions={len(self)}, images={len(self.image_ids)}, "
                f"answers={len(self.answers)})")


class VQABatch(NamedTuple):
    """Questions about a few pictures.

    Shapes: ``questions`` (B, T) word indices padded with 0, ``lengths`` (B,), ``images``
    ``uint8`` (U, 3, H, W) the U distinct pictures, ``image_index`` (B,) each question's row in
    ``images``, ``answers`` (B,), ``kinds`` (B,) indices into :data:`KINDS`.
    """
    questions: torch.Tensor
    lengths: torch.Tensor
    images: torch.Tensor
    image_index: torch.Tensor
    answers: torch.Tensor
    kinds: torch.Tensor


class VQACollate:
    """The ``collate_fn`` of a ``DataLoader`` over *picture rows* of ``dataset``: a list of rows
    becomes a :class:`VQABatch` of every question about those pictures.

    Questions are encoded with ``vocab`` (unknown words -> ``<unk>``) once, here.

    Example::

        collate = VQACollate(train, vocab)
        loader = DataLoader(range(collate.num_images), batch_size=16, shuffle=True,
                            collate_fn=collate)
    """

    def __init__(self, dataset: EasyVQA, vocab: Vocab):
        encoded = [vocab.encode(question_tokens(q)) for q in dataset.questions]
        self.padded, self.lengths = pad_sequences(encoded, vocab.pad_index)
        self.images, self.answers = dataset.images, dataset.targets
        self.kinds = torch.tensor([KINDS.index(k) for k in dataset.kinds], dtype=torch.long)
        order = torch.argsort(dataset.image_index, stable=True)
        counts = torch.bincount(dataset.image_index, minlength=len(dataset.images))
        self.questions_of = list(torch.split(order, counts.tolist()))  # per picture row

    @property
    def num_images(self) -> int:
        return len(self.images)

    def __call__(self, rows: Sequence[int]) -> VQABatch:
        rows = [int(r) for r in rows]
        picked = [self.questions_of[r] for r in rows]
        index = torch.cat(picked)
        local = torch.repeat_interleave(torch.arange(len(rows)),
                                        torch.tensor([len(p) for p in picked]))
        lengths = self.lengths[index]
        return VQABatch(self.padded[index, :int(lengths.max())], lengths, self.images[rows],
                        local, self.answers[index], self.kinds[index])
