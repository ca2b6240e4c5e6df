"""Captioned scenes of coloured shapes, generated: a captioning data set that needs no download.

Every scene is an RGB image (64x64 by default, black background) with 1-4 non-overlapping objects.
An object is a shape (circle, square, triangle), a colour (red, green, blue, yellow, purple), a
size (small, large) and a position. Each scene has several reference captions drawn from a small
grammar that names the objects from left to right, with paraphrases (an optional opener, two
sentence forms) and spatial relations that are true of the picture::

    caption  := opener? chain | opener? list
    opener   := "there is" | "a picture of" | "an image of"
    chain    := object (relation object)*            relation between neighbours, left to right
    relation := "to the left of" | "left of"          always true
              | "above"                               when the left object is wholly higher
              | "below" | "under"                     when it is wholly lower
    list     := object ("," object)* "and" object "from left to right"    (2 or more objects)
    object   := "a" size colour shape

e.g. "a picture of a small red circle to the left of a large blue square". Because every object
phrase is ``a SIZE COLOUR SHAPE`` and the order is left to right, a caption parses back into the
scene's objects (:meth:`ShapeScenes.parse_caption`), which gives a content score for generated
captions beyond n-gram overlap (:func:`object_scores`).

Everything is a function of ``(seed, split, index)``: scene ``i`` of a split is drawn from its
own generator, so the first 500 scenes of a 1,000-scene split are the 500 of a 500-scene one, and
the three splits are independent draws (see ``datasets/shape_scenes.md``).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

__all__ = ["SceneObject", "Scene", "ShapeScenes", "object_scores", "SHAPES", "COLOURS", "SIZES"]

SHAPES = ("circle", "square", "triangle")
#: colour name -> RGB
COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (50, 100, 235),
           "yellow": (235, 215, 40), "purple": (160, 60, 210)}
#: size name -> half-extent in pixels at 64x64 (scaled with the image)
SIZES = {"small": 5.0, "large": 9.0}
OPENERS = ("", "there is", "a picture of", "an image of")
LEFT = ("to the left of", "left of")
ABOVE = ("above",)
BELOW = ("below", "under")
LIST_END = "from left to right"
MIN_GAP, MIN_DX = 2.0, 5.0  # pixels between boxes, between centres in x (at 64x64)
SPLITS = {"train": 0, "val": 1, "test": 2}
DEFAULT_SIZES = {"train": 4000, "val": 500, "test": 1000}


class SceneObject(NamedTuple):
    """One object: ``shape``, ``colour``, ``size`` names, centre ``(x, y)`` in pixels (y grows
    downwards) and half-extent ``radius`` in pixels."""
    shape: str
    colour: str
    size: str
    x: float
    y: float
    radius: float

    @property
    def key(self) -> tuple[str, str, str]:
        """``(size, colour, shape)``: what a caption says about the object."""
        return self.size, self.colour, self.shape


class Scene(NamedTuple):
    """An item of :class:`ShapeScenes`: ``image`` (3, H, W) uint8, the reference ``captions``
    (strings of space-separated words) and the ``objects`` from left to right."""
    image: Tensor
    captions: list[str]
    objects: tuple[SceneObject, ...]


# ------------------------------------------------------------------------------------------------
# drawing (numpy only, so a scene is the same on every machine)

def _mask(shape: str, cx: float, cy: float, r: float, size: int) -> np.ndarray:
    """Boolean (size, size) mask of a shape centred at ``(cx, cy)``, tested at pixel centres."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    dx, dy = xx - cx, yy - cy
    if shape == "circle":
        return dx * dx + dy * dy <= r * r
    if shape == "square":  # 0.85 r keeps its area near the circle's
        return (np.abs(dx) <= 0.85 * r) & (np.abs(dy) <= 0.85 * r)
    if shape == "triangle":  # apex at cy - r, base at cy + 0.8 r, half-width r at the base
        return (dy <= 0.8 * r) & (np.abs(dx) <= (dy + r) / 1.8)
    raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")


def _place(rng: np.random.Generator, n: int, image_size: int, min_gap: float, min_dx: float
           ) -> list[SceneObject] | None:
    """Draw ``n`` objects with non-overlapping boxes (``min_gap`` apart) whose centres differ by
    at least ``min_dx`` in x, so "left to right" is unambiguous; None when a draw fails."""
    scale = image_size / 64.0
    objects: list[SceneObject] = []
    for _ in range(n):
        shape = SHAPES[rng.integers(len(SHAPES))]
        colour = list(COLOURS)[rng.integers(len(COLOURS))]
        size = list(SIZES)[rng.integers(len(SIZES))]
        r = SIZES[size] * scale
        for _ in range(200):
            x, y = rng.uniform(r + 1, image_size - r - 1, size=2)
            if all(abs(x - o.x) >= min_dx and
                   (abs(x - o.x) >= r + o.radius + min_gap or
                    abs(y - o.y) >= r + o.radius + min_gap) for o in objects):
                objects.append(SceneObject(shape, colour, size, float(x), float(y), float(r)))
                break
        else:
            return None
    return objects


def draw_scene(objects: Sequence[SceneObject], image_size: int) -> np.ndarray:
    """The (H, W, 3) uint8 picture of ``objects`` on black."""
    canvas = np.zeros((image_size, image_size, 3), dtype=np.uint8)
    for o in objects:
        canvas[_mask(o.shape, o.x, o.y, o.radius, image_size)] = COLOURS[o.colour]
    return canvas


# ------------------------------------------------------------------------------------------------
# captions

def _phrase(o: SceneObject) -> str:
    return f"a {o.size} {o.colour} {o.shape}"


def _relations(left: SceneObject, right: SceneObject) -> tuple[str, ...]:
    """The relation phrases true of ``left`` with respect to its right neighbour."""
    phrases = LEFT
    if left.y + left.radius < right.y - right.radius:     # wholly higher (y grows downwards)
        phrases = phrases + ABOVE
    elif left.y - left.radius > right.y + right.radius:   # wholly lower
        phrases = phrases + BELOW
    return phrases


def make_caption(objects: Sequence[SceneObject], rng: np.random.Generator) -> str:
    """One random caption of ``objects`` (sorted left to right) from the grammar."""
    opener = OPENERS[rng.integers(len(OPENERS))]
    words = [opener] if opener else []
    if len(objects) >= 2 and rng.random() < 0.3:
        words.append(" , ".join(_phrase(o) for o in objects[:-1]))
        words += ["and", _phrase(objects[-1]), LIST_END]
    else:
        words.append(_phrase(objects[0]))
        for left, right in zip(objects, objects[1:]):
            options = _relations(left, right)
            words += [options[rng.integers(len(options))], _phrase(right)]
    return " ".join(words)


def _match(tokens: list[str], i: int, phrases: Sequence[str]) -> str | None:
    """The longest of ``phrases`` that ``tokens`` spell from position ``i``."""
    for phrase in sorted(phrases, key=len, reverse=True):
        words = phrase.split()
        if words and tokens[i:i + len(words)] == words:
            return phrase
    return None


def _parse_strict(tokens: list[str], caption: str) -> tuple[list[tuple], list[str]]:
    def fail(i: int, expected: str):
        got = repr(tokens[i]) if i < len(tokens) else "the end"
        raise ValueError(f"caption {caption!r}: word {i + 1}: expected {expected}, got {got}")

    def object_at(i: int) -> tuple[tuple[str, str, str], int]:
        for j, (what, allowed) in enumerate((("'a'", ("a",)), ("a size", SIZES),
                                             ("a colour", COLOURS), ("a shape", SHAPES))):
            if i + j >= len(tokens) or tokens[i + j] not in allowed:
                fail(i + j, what)
        return (tokens[i + 1], tokens[i + 2], tokens[i + 3]), i + 4

    i = 0
    opener = _match(tokens, 0, [o for o in OPENERS if o])
    if opener:
        i += len(opener.split())
    obj, i = object_at(i)
    objects, relations = [obj], []
    if i < len(tokens) and tokens[i] in (",", "and"):  # the list form
        while tokens[i] == ",":
            obj, i = object_at(i + 1)
            objects.append(obj)
            if i >= len(tokens):
                fail(i, "',' or 'and'")
        if tokens[i] != "and":
            fail(i, "',' or 'and'")
        obj, i = object_at(i + 1)
        objects.append(obj)
        if _match(tokens, i, (LIST_END,)) is None:
            fail(i, repr(LIST_END))
        i += len(LIST_END.split())
        relations = ["left"] * (len(objects) - 1)
    else:
        while i < len(tokens):
            rel = _match(tokens, i, LEFT + ABOVE + BELOW)
            if rel is None:
                fail(i, "a relation ('to the left of', 'left of', 'above', 'below', 'under')")
            relations.append("left" if rel in LEFT else "above" if rel in ABOVE else "below")
            obj, i = object_at(i + len(rel.split()))
            objects.append(obj)
    if i != len(tokens):
        fail(i, "the end")
    return objects, relations


class ShapeScenes(torch.utils.data.Dataset):
    """Generated scenes of coloured shapes with reference captions (see the module docstring).

    Args:
        split (str): ``"train"``, ``"val"`` or ``"test"``: independent draws.
        size (int, optional): scenes in the split. (default: 4000 / 500 / 1000)
        seed (int): the draw; with ``split`` and the scene's index it fixes every scene.
            (default: ``0``)
        image_size (int): H = W in pixels, at least 32; shapes scale with it. (default: ``64``)
        min_objects, max_objects (int): objects per scene, drawn uniformly. (default: 1, 4)
        captions_per_image (int): reference captions per scene. (default: ``5``)
        transform (callable, optional): applied to each :class:`Scene` on access.

    Items are :class:`Scene` tuples ``(image (3, H, W) uint8, captions, objects)``.
    """

    SPLITS = tuple(SPLITS)

    def __init__(self, split: str = "train", size: int | None = None, seed: int = 0,
                 image_size: int = 64, min_objects: int = 1, max_objects: int = 4,
                 captions_per_image: int = 5, transform: Callable | None = None):
        if split not in SPLITS:
            raise ValueError(f"ShapeScenes: split must be one of {self.SPLITS}, got {split!r}")
        size = DEFAULT_SIZES[split] if size is None else size
        if size < 1:
            raise ValueError(f"ShapeScenes: size must be >= 1, got {size}")
        if image_size < 32:
            raise ValueError(f"ShapeScenes: image_size must be >= 32, got {image_size}")
        if not 1 <= min_objects <= max_objects <= 4:
            raise ValueError(f"ShapeScenes: need 1 <= min_objects <= max_objects <= 4, got "
                             f"{min_objects} and {max_objects}")
        if captions_per_image < 1:
            raise ValueError(f"ShapeScenes: captions_per_image must be >= 1, got "
                             f"{captions_per_image}")
        self.split, self.seed, self.image_size = split, seed, image_size
        self.min_objects, self.max_objects = min_objects, max_objects
        self.captions_per_image, self.transform = captions_per_image, transform
        self.items = [self.make_scene(i) for i in range(size)]

    def make_scene(self, index: int) -> Scene:
        """Scene ``index`` of this split, from its own generator ``(seed, split, index)``."""
        rng = np.random.default_rng([self.seed, SPLITS[self.split], index])
        n = int(rng.integers(self.min_objects, self.max_objects + 1))
        scale = self.image_size / 64.0
        objects = None
        while objects is None:  # a failed draw starts the scene again from the same generator
            objects = _place(rng, n, self.image_size, MIN_GAP * scale, MIN_DX * scale)
        objects = tuple(sorted(objects, key=lambda o: o.x))
        image = torch.from_numpy(draw_scene(objects, self.image_size)).permute(2, 0, 1)
        captions = [make_caption(objects, rng) for _ in range(self.captions_per_image)]
        return Scene(image.contiguous(), captions, objects)

    @staticmethod
    def vocabulary() -> list[str]:
        """Every word the grammar can produce, sorted."""
        words = {"a", ",", "and", *LIST_END.split(), *SIZES, *COLOURS, *SHAPES}
        for phrase in OPENERS + LEFT + ABOVE + BELOW:
            words.update(phrase.split())
        return sorted(words)

    @staticmethod
    def parse_caption(caption: str | Sequence[str], strict: bool = False
                      ) -> list[tuple[str, str, str]]:
        """The ``(size, colour, shape)`` objects a caption names, in its order (left to right).

        Args:
            caption: a string (words separated by spaces) or a list of words.
            strict: the whole caption must follow the grammar, else ``ValueError`` naming the
                word and what was expected. Otherwise (for generated captions) every
                ``size colour shape`` triple is read and the rest ignored. (default: ``False``)
        """
        tokens = caption.lower().split() if isinstance(caption, str) else list(caption)
        if strict:
            return _parse_strict(tokens, " ".join(tokens))[0]
        return [(tokens[i], tokens[i + 1], tokens[i + 2]) for i in range(len(tokens) - 2)
                if tokens[i] in SIZES and tokens[i + 1] in COLOURS and tokens[i + 2] in SHAPES]

    @staticmethod
    def parse_relations(caption: str) -> list[str]:
        """The relation between each pair of neighbours a grammatical caption states, left to
        right: ``"left"``, ``"above"`` (the left one is higher) or ``"below"``."""
        return _parse_strict(caption.lower().split(), caption)[1]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Scene:
        item = self.items[index]
        return self.transform(item) if self.transform is not None else item

    def __repr__(self) -> str:
        return (f"ShapeScenes(split={self.split!r}, size={len(self)}, seed={self.seed}, "
                f"image_size={self.image_size})")


def object_scores(captions: Sequence[str | Sequence[str]],
                  objects: Sequence[Sequence[SceneObject | tuple[str, str, str]]]) -> dict:
    """Content of generated captions against their scenes: each caption is parsed
    (:meth:`ShapeScenes.parse_caption`, lenient) into ``(size, colour, shape)`` objects and
    matched to the scene's as multisets (order ignored).

    Returns:
        ``{"precision": TP / objects named, "recall": TP / objects in the scenes, "f1": their
        harmonic mean, "exact": fraction of captions naming exactly the scene's objects in
        left-to-right order}`` summed over the corpus (micro averages), each in 0-1.
    """
    if len(captions) != len(objects):
        raise ValueError(f"object_scores: {len(captions)} captions but {len(objects)} scenes")
    tp = named = present = exact = 0
    for caption, scene in zip(captions, objects):
        got = ShapeScenes.parse_caption(caption)
        want = [o.key if isinstance(o, SceneObject) else tuple(o) for o in scene]
        tp += sum((Counter(got) & Counter(want)).values())
        named, present = named + len(got), present + len(want)
        exact += got == want
    precision = tp / named if named else 0.0
    recall = tp / present if present else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1,
            "exact": exact / len(captions) if captions else 0.0}
