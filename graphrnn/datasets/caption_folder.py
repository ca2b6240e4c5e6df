"""Captioned photographs from the two layouts people keep on disk: COCO and Flickr8k.

* ``format="coco"``: ``captions_<split><year>.json`` as MS-COCO ships it (``{"images": [{"id",
  "file_name"}, ...], "annotations": [{"image_id", "caption"}, ...]}``, about five captions per
  image), looked for in ``root/annotations/`` and ``root/``; the pictures in ``root/<split><year>/``
  (e.g. ``train2014/``), ``root/images/<split><year>/``, ``root/images/`` or ``root/``.
  ``split="test"`` reads ``captions_test*.json`` when there is one, else ``captions_val*.json``
  (COCO's test captions are not public; its val set is the usual test set).
* ``format="flickr8k"``: ``Flickr8k.token.txt`` (lines ``IMAGE.jpg#N<TAB>caption``, N = 0..4) in
  ``root/`` or ``root/Flickr8k_text/``; the pictures in ``root/Flicker8k_Dataset/`` (the archive's
  own spelling), ``root/Flickr8k_Dataset/``, ``root/Images/``, ``root/images/`` or ``root/``. The
  split is ``Flickr_8k.{train,dev,test}Images.txt`` beside the token file when present (images
  in none of them are left out), else a fixed hash of the file name (80 / 10 / 10 %).

Images are read with Pillow when an item is accessed, converted to RGB and resized to
``image_size`` x ``image_size``. The data sets are not redistributed; see
``datasets/caption_folder.md`` for where to get them. A malformed file is an error naming the file
and the line (or JSON entry) and what was expected.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor

from ..io import read_json, read_lines
from .base import DataNotFoundError, FileDataset

__all__ = ["CaptionedImage", "CaptionFolder", "read_coco_captions", "read_flickr8k_tokens",
           "load_image"]

FLICKR_TOKENS = ("Flickr8k.token.txt", "Flickr8k_text/Flickr8k.token.txt")
FLICKR_IMAGES = ("Flicker8k_Dataset", "Flickr8k_Dataset", "Images", "images", ".")
FLICKR_SPLITS = {"train": "Flickr_8k.trainImages.txt", "val": "Flickr_8k.devImages.txt",
                 "test": "Flickr_8k.testImages.txt"}


class CaptionedImage(NamedTuple):
    """An item of :class:`CaptionFolder`: ``image`` (3, H, W) uint8, its reference ``captions``
    and the image's file ``name``."""
    image: Tensor
    captions: list[str]
    name: str


def load_image(path: str | os.PathLike, image_size: int) -> Tensor:
    """The picture at ``path`` as a (3, image_size, image_size) uint8 tensor (RGB, resized
    bilinearly)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('reading JPEG/PNG captioning images needs Pillow: '
                          'pip install "graphrnn[vision]"') from None
    try:
        with Image.open(path) as im:
            im = im.convert("RGB").resize((image_size, image_size), Image.BILINEAR)
            data = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: image file not found") from None
    except OSError as err:
        raise ValueError(f"{path}: not a readable image ({err})") from None
    return data.view(image_size, image_size, 3).permute(2, 0, 1).contiguous()


def read_coco_captions(path: str | os.PathLike) -> dict[str, list[str]]:
    """``{file_name: [captions]}`` of a COCO ``captions_*.json`` (images without a caption are
    left out). Malformed JSON is a ``ValueError`` naming the file and line; a wrong entry one
    naming the file and the entry (``annotations[3]``)."""
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) or \
            not isinstance(data.get("annotations"), list):
        raise ValueError(f"{path}: expected a COCO captions file, a JSON object with lists "
                         "'images' and 'annotations'")
    names: dict = {}
    for i, entry in enumerate(data["images"]):
        if not isinstance(entry, dict) or "id" not in entry or \
                not isinstance(entry.get("file_name"), str):
            raise ValueError(f"{path}: images[{i}]: expected an object with 'id' and 'file_name', "
                             f"got {str(entry)[:80]}")
        names[entry["id"]] = entry["file_name"]
    captions: dict[str, list[str]] = {}
    for i, entry in enumerate(data["annotations"]):
        if not isinstance(entry, dict) or "image_id" not in entry or \
                not isinstance(entry.get("caption"), str):
            raise ValueError(f"{path}: annotations[{i}]: expected an object with 'image_id' and "
                             f"a 'caption' string, got {str(entry)[:80]}")
        if entry["image_id"] not in names:
            raise ValueError(f"{path}: annotations[{i}]: image_id {entry['image_id']!r} is not "
                             "among the 'images'")
        captions.setdefault(names[entry["image_id"]], []).append(entry["caption"].strip())
    return captions


def read_flickr8k_tokens(path: str | os.PathLike) -> dict[str, list[str]]:
    """``{file_name: [captions]}`` of a ``Flickr8k.token.txt``; a line not of the form
    ``IMAGE#N<TAB>caption`` is a ``ValueError`` naming the file and line."""
    captions: dict[str, list[str]] = {}
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        key, tab, caption = line.partition("\t")
        name, hash_, index = key.rpartition("#")[0], "#" in key, key.rpartition("#")[2]
        if not tab or not hash_ or not name or not index.isdigit() or not caption.strip():
            raise ValueError(f"{path}:{number}: expected 'IMAGE.jpg#N<TAB>caption', got "
                             f"{line[:80]!r}")
        captions.setdefault(name, []).append(caption.strip())
    return captions


def _hash_split(name: str) -> str:
    """A fixed 80/10/10 split by the md5 of the file name (when no split lists exist)."""
    bucket = int(hashlib.md5(name.encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 9 else "val" if bucket == 8 else "train"


class CaptionFolder(FileDataset):
    """Captioned images of a COCO or Flickr8k folder (see the module docstring).

    Args:
        root (str or PathLike): the folder.
        format (str): ``"coco"`` or ``"flickr8k"``. (default: ``"coco"``)
        split (str): ``"train"``, ``"val"`` or ``"test"``. (default: ``"train"``)
        image_size (int): images are resized to this square. (default: ``64``)
        limit (int, optional): keep the first ``limit`` images (sorted by name).
        transform (callable, optional): applied to each :class:`CaptionedImage`.

    Items are :class:`CaptionedImage` tuples ``(image (3, S, S) uint8, captions, name)``.
    """

    FORMATS = ("coco", "flickr8k")
    SPLITS = ("train", "val", "test")
    source = ("MS-COCO (https://cocodataset.org, annotations/captions_*.json) or Flickr8k "
              "(Flickr8k.token.txt and Flicker8k_Dataset/)")
    card = "datasets/caption_folder.md"

    def __init__(self, root: str | os.PathLike, format: str = "coco", split: str = "train",
                 image_size: int = 64, limit: int | None = None,
                 transform: Callable | None = None):
        if format not in self.FORMATS:
            raise ValueError(f"CaptionFolder: format must be one of {self.FORMATS}, got "
                             f"{format!r}")
        if split not in self.SPLITS:
            raise ValueError(f"CaptionFolder: split must be one of {self.SPLITS}, got {split!r}")
        if image_size < 1:
            raise ValueError(f"CaptionFolder: image_size must be >= 1, got {image_size}")
        self.format, self.split, self.image_size, self.limit = format, split, image_size, limit
        root = Path(root)
        self.raw_file_names = (self._annotation_file(root),)
        super().__init__(root, transform, download=False, check_md5=False)

    # -- where the files are ----------------------------------------------------------------------
    def _annotation_file(self, root: Path) -> str:
        if self.format == "flickr8k":
            found = [name for name in FLICKR_TOKENS if (root / name).is_file()]
            return found[0] if found else FLICKR_TOKENS[0]
        wanted = ("test", "val") if self.split == "test" else (self.split,)
        for stem in wanted:
            for folder in ("annotations", "."):
                hits = sorted((root / folder).glob(f"captions_{stem}*.json"))
                if hits:
                    return str(hits[0].relative_to(root))
        return f"annotations/captions_{self.split}2014.json"

    def not_found(self, missing, why: str = "") -> DataNotFoundError:
        if self.format == "coco":
            why = why or "looked for captions_" + \
                ("{test,val}" if self.split == "test" else self.split) + \
                "*.json in annotations/ and the folder itself"
        return super().not_found(missing, why)

    def _image_folder(self, annotation: Path) -> Path:
        if self.format == "flickr8k":
            candidates = [self.root / name for name in FLICKR_IMAGES]
        else:
            stem = annotation.stem.removeprefix("captions_")  # e.g. train2014
            candidates = [self.root / stem, self.root / "images" / stem, self.root / "images",
                          self.root]
        for folder in candidates:
            if folder.is_dir() and any(folder.glob("*.[jJpP][pPnN][gG]")):
                return folder
        raise DataNotFoundError(f"CaptionFolder: no image folder with .jpg/.png files for "
                                f"{annotation}; looked in "
                                f"{', '.join(str(c) for c in candidates)}; see {self.card}")

    # -- reading ----------------------------------------------------------------------------------
    def process(self) -> list[tuple[Path, list[str]]]:
        annotation = self.raw_paths[0]
        if self.format == "coco":
            captions = read_coco_captions(annotation)
        else:
            captions = read_flickr8k_tokens(annotation)
            listed = self._flickr_split(annotation.parent)  # images in no list are left out
            split_of = listed.get if listed else _hash_split
            captions = {name: caps for name, caps in captions.items()
                        if split_of(name) == self.split}
        folder = self._image_folder(annotation)
        names = sorted(captions)[:self.limit] if self.limit is not None else sorted(captions)
        if not names:
            raise ValueError(f"{annotation}: no captioned images in the {self.split!r} split")
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            raise DataNotFoundError(f"CaptionFolder: {len(missing)} image(s) named in "
                                    f"{annotation} are not in {folder}, e.g. {missing[0]}")
        self.image_folder = folder
        return [(folder / n, captions[n]) for n in names]

    def _flickr_split(self, folder: Path) -> dict[str, str]:
        """``{file_name: split}`` from the Flickr_8k.*Images.txt lists beside the token file
        (empty when there are none)."""
        split_of: dict[str, str] = {}
        for split, name in FLICKR_SPLITS.items():
            if (folder / name).is_file():
                split_of.update((line.strip(), split) for line in read_lines(folder / name)
                                if line.strip())
        return split_of

    def __getitem__(self, index: int) -> CaptionedImage:
        path, captions = self.items[index]
        item = CaptionedImage(load_image(path, self.image_size), list(captions), path.name)
        return self.transform(item) if self.transform is not None else item

    def __repr__(self) -> str:
        return (f"CaptionFolder({len(self)}, format={self.format!r}, split={self.split!r}, "
                f"root={str(self.root)!r})")
