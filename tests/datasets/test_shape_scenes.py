"""graphrnn.datasets.ShapeScenes: generated captioned scenes, their grammar and object scores."""
from __future__ import annotations

import pytest
import torch

from graphrnn.datasets.shape_scenes import (
    COLOURS,
    SHAPES,
    SIZES,
    SceneObject,
    ShapeScenes,
    _mask,
    object_scores,
)


@pytest.fixture(scope="module")
def scenes():
    return ShapeScenes("train", 120, seed=3)


def test_every_caption_parses_back_to_the_scene_left_to_right(scenes):
    forms = set()
    for scene in scenes:
        keys = [o.key for o in scene.objects]
        assert [o.x for o in scene.objects] == sorted(o.x for o in scene.objects)
        assert len(scene.captions) == 5
        for caption in scene.captions:
            assert ShapeScenes.parse_caption(caption, strict=True) == keys
            assert ShapeScenes.parse_caption(caption) == keys
            forms.add("list" if "from left to right" in caption else "chain")
    assert forms == {"list", "chain"}


def test_relations_in_captions_are_true_of_the_picture(scenes):
    seen = set()
    for scene in scenes:
        for caption in scene.captions:
            for rel, a, b in zip(ShapeScenes.parse_relations(caption), scene.objects,
                                 scene.objects[1:]):
                seen.add(rel)
                assert a.x < b.x
                if rel == "above":
                    assert a.y + a.radius < b.y - b.radius
                elif rel == "below":
                    assert a.y - a.radius > b.y + b.radius
    assert seen == {"left", "above", "below"}


def test_the_image_shows_each_object_in_its_colour(scenes):
    for scene in list(scenes)[:30]:
        assert scene.image.shape == (3, 64, 64) and scene.image.dtype == torch.uint8
        for o in scene.objects:
            pixel = scene.image[:, int(o.y), int(o.x)].tolist()
            assert pixel == list(COLOURS[o.colour]), (o, pixel)
        painted = (scene.image.sum(0) > 0).sum().item()
        # objects do not overlap: the painted area is the sum of the objects' own areas
        assert painted == sum(int(_mask(o.shape, o.x, o.y, o.radius, 64).sum())
                              for o in scene.objects)


def test_seeded_per_scene_and_splits_differ():
    a, b = ShapeScenes("test", 20, seed=1), ShapeScenes("test", 10, seed=1)
    assert all(torch.equal(a[i].image, b[i].image) and a[i].captions == b[i].captions
               for i in range(10))
    other = ShapeScenes("val", 10, seed=1)
    assert not any(torch.equal(a[i].image, other[i].image) for i in range(10))
    assert not torch.equal(ShapeScenes("test", 1, seed=2)[0].image, a[0].image)


def test_object_counts_and_bounds():
    ds = ShapeScenes("val", 60, seed=0, min_objects=3, max_objects=4, image_size=96)
    assert {len(s.objects) for s in ds} == {3, 4}
    assert ds[0].image.shape == (3, 96, 96)
    for s in ds:
        for o in s.objects:
            assert o.radius <= o.x <= 96 - o.radius and o.radius <= o.y <= 96 - o.radius
    with pytest.raises(ValueError, match="max_objects <= 4"):
        ShapeScenes("train", 1, max_objects=5)
    with pytest.raises(ValueError, match="split must be one of"):
        ShapeScenes("dev", 1)


def test_vocabulary_covers_every_caption(scenes):
    vocab = set(ShapeScenes.vocabulary())
    assert set(SHAPES) | set(COLOURS) | set(SIZES) <= vocab
    assert {w for s in scenes for c in s.captions for w in c.split()} == vocab


def test_strict_parse_names_the_word():
    with pytest.raises(ValueError, match=r"word 3: expected a colour, got 'tiny'"):
        ShapeScenes.parse_caption("a small tiny circle", strict=True)
    with pytest.raises(ValueError, match="word 5: expected a relation"):
        ShapeScenes.parse_caption("a small red circle near a large blue square", strict=True)
    # lenient parsing reads the triples and skips the rest
    assert ShapeScenes.parse_caption("a small red circle near a large blue blue square") == \
        [("small", "red", "circle")]


def test_object_scores_by_hand():
    scene = [SceneObject("circle", "red", "small", 1, 1, 5),
             SceneObject("square", "blue", "large", 20, 1, 9)]
    perfect = object_scores(["a small red circle left of a large blue square"], [scene])
    assert perfect == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "exact": 1.0}
    # one right, one wrong colour, one extra: TP 1 of 3 named, of 2 present
    got = object_scores(["a small red circle left of a large red square left of a small red "
                         "circle"], [scene])
    assert got["precision"] == pytest.approx(1 / 3) and got["recall"] == pytest.approx(1 / 2)
    assert got["f1"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert got["exact"] == 0.0
    # swapped order: every object found, not exact
    swapped = object_scores(["a large blue square left of a small red circle"], [scene])
    assert swapped["f1"] == 1.0 and swapped["exact"] == 0.0
