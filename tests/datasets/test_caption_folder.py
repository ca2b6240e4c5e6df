"""graphrnn.datasets.CaptionFolder on tiny hand-made COCO and Flickr8k folders."""
from __future__ import annotations

import json

import pytest
import torch

from graphrnn.datasets.base import DataNotFoundError
from graphrnn.datasets.caption_folder import CaptionFolder, read_coco_captions, read_flickr8k_tokens

PIL = pytest.importorskip("PIL.Image")


def _image(path, colour, size=(20, 12)):
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.new("RGB", size, colour).save(path)


def _coco(root, split="train"):
    data = {"images": [{"id": 7, "file_name": "a.jpg"}, {"id": 9, "file_name": "b.png"}],
            "annotations": [{"image_id": 7, "caption": "A red picture."},
                            {"image_id": 9, "caption": "A blue one "},
                            {"image_id": 7, "caption": "Red, all red"}]}
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    path = root / "annotations" / f"captions_{split}2014.json"
    path.write_text(json.dumps(data, indent=1))
    _image(root / f"{split}2014" / "a.jpg", (255, 0, 0))
    _image(root / f"{split}2014" / "b.png", (0, 0, 255))
    return path


def test_coco_two_images(tmp_path):
    _coco(tmp_path)
    ds = CaptionFolder(tmp_path, "coco", "train", image_size=16)
    assert len(ds) == 2
    a, b = ds[0], ds[1]
    assert a.name == "a.jpg" and a.captions == ["A red picture.", "Red, all red"]
    assert b.captions == ["A blue one"]
    assert a.image.shape == (3, 16, 16) and a.image.dtype == torch.uint8
    # JPEG is lossy; the colour survives
    assert a.image[0].float().mean() > 200 and a.image[2].float().mean() < 60
    assert torch.all(b.image[2] == 255) and torch.all(b.image[0] == 0)


def test_coco_test_split_falls_back_to_val(tmp_path):
    _coco(tmp_path, "val")
    assert len(CaptionFolder(tmp_path, "coco", "test")) == 2
    with pytest.raises(DataNotFoundError, match="captions_train2014.json"):
        CaptionFolder(tmp_path, "coco", "train")


def test_coco_malformed_json_names_file_and_line(tmp_path):
    path = _coco(tmp_path)
    text = path.read_text().splitlines()
    line = next(i for i, t in enumerate(text) if '"file_name"' in t)
    text[line] = text[line].replace('"file_name"', 'file_name')  # unquoted key: a syntax error
    path.write_text("\n".join(text))
    with pytest.raises(ValueError, match=rf"{path}:{line + 1}: not valid JSON"):
        CaptionFolder(tmp_path, "coco")


def test_coco_bad_entry_names_file_and_entry(tmp_path):
    path = _coco(tmp_path)
    data = json.loads(path.read_text())
    del data["annotations"][1]["caption"]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=rf"{path}: annotations\[1\]: expected .*'caption'"):
        read_coco_captions(path)
    data["annotations"][1]["caption"] = "x"
    data["annotations"][1]["image_id"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="image_id 99 is not among the 'images'"):
        read_coco_captions(path)


def _flickr(root, lines):
    path = root / "Flickr8k.token.txt"
    path.write_text("\n".join(lines) + "\n")
    _image(root / "Flicker8k_Dataset" / "1000_a.jpg", (0, 255, 0))
    _image(root / "Flicker8k_Dataset" / "2000_b.jpg", (255, 255, 0))
    return path


def test_flickr8k_two_lines_with_split_lists(tmp_path):
    _flickr(tmp_path, ["1000_a.jpg#0\tA green field .", "2000_b.jpg#0\tA yellow wall ."])
    (tmp_path / "Flickr_8k.trainImages.txt").write_text("1000_a.jpg\n")
    (tmp_path / "Flickr_8k.testImages.txt").write_text("2000_b.jpg\n")
    train = CaptionFolder(tmp_path, "flickr8k", "train", image_size=8)
    test = CaptionFolder(tmp_path, "flickr8k", "test", image_size=8)
    assert [x.name for x in train] == ["1000_a.jpg"] and train[0].captions == ["A green field ."]
    assert [x.name for x in test] == ["2000_b.jpg"] and test[0].captions == ["A yellow wall ."]
    assert train[0].image.shape == (3, 8, 8) and train[0].image[1].float().mean() > 200
    with pytest.raises(ValueError, match="no captioned images in the 'val' split"):
        CaptionFolder(tmp_path, "flickr8k", "val")


def test_flickr8k_malformed_line_names_file_and_line(tmp_path):
    path = _flickr(tmp_path, ["1000_a.jpg#0\tA green field .", "2000_b.jpg A yellow wall ."])
    with pytest.raises(ValueError, match=rf"{path}:2: expected 'IMAGE.jpg#N<TAB>caption'"):
        read_flickr8k_tokens(path)
    with pytest.raises(ValueError, match=rf"{path}:2:"):
        CaptionFolder(tmp_path, "flickr8k")


def test_flickr8k_hash_split_covers_every_image_once(tmp_path):
    _flickr(tmp_path, ["1000_a.jpg#0\ta", "1000_a.jpg#1\tb", "2000_b.jpg#0\tc"])
    names = []
    for split in CaptionFolder.SPLITS:
        try:
            names += [x.name for x in CaptionFolder(tmp_path, "flickr8k", split)]
        except ValueError:  # a split the hash gave no image
            pass
    assert sorted(names) == ["1000_a.jpg", "2000_b.jpg"]
    assert read_flickr8k_tokens(tmp_path / "Flickr8k.token.txt")["1000_a.jpg"] == ["a", "b"]


def test_missing_files_are_named(tmp_path):
    with pytest.raises(DataNotFoundError, match="Flickr8k.token.txt"):
        CaptionFolder(tmp_path, "flickr8k")
    _flickr(tmp_path, ["1000_a.jpg#0\ta", "3000_c.jpg#0\tmissing"])
    with pytest.raises(DataNotFoundError, match="1 image.*3000_c.jpg"):
        CaptionFolder(tmp_path, "flickr8k", "train")
    with pytest.raises(ValueError, match="format must be one of"):
        CaptionFolder(tmp_path, "vg")
