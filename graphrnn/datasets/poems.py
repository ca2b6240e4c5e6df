"""Tang poems: readers for the three common layouts, filters, the regulated-verse form check, and
the :class:`TangPoems` dataset.

Layouts (``layout=`` below):

* ``"title_content"``: one poem a line, ``title:content`` (the ``poems.txt`` of the nndl/exercise
  chapter-6 poem generator).
* ``"blank_line"``: poems separated by blank lines, a poem's verse possibly wrapped over several
  lines, no titles (``tangshi.txt`` of the same exercise).
* ``"chinese_poetry"``: the chinese-poetry project's JSON files (``poet.tang.<N>.json``), each a
  list of ``{"author", "paragraphs": [...], "title", "id"}``. Their text is traditional Chinese.

A poem's text is its verse with every whitespace character removed, punctuation kept, e.g.
``床前明月光，疑是地上霜。举头望明月，低头思故乡。``.

Regulated verse (jueju / lüshi): every line has 5 or 7 characters, there are 4 or 8 lines, and the
punctuation is in place: ``，`` after each odd line and ``。`` after each even one. :func:`check_form`
tests this, both to filter a corpus and to judge generated poems.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..io import read_json
from .base import FileDataset
from .download import download_url

__all__ = [
    "Poem", "read_title_content", "read_blank_line", "read_chinese_poetry", "read_poems",
    "UNWANTED_SYMBOLS", "has_unwanted_symbols", "filter_poems", "split_verse_lines", "FormCheck",
    "check_form", "is_well_formed", "simplified_converter", "to_simplified", "split_of",
    "TangPoems",
]

LAYOUTS = ("title_content", "blank_line", "chinese_poetry")

# ----------------------------------------------------------------------------------------------
# readers


@dataclass(frozen=True)
class Poem:
    """One poem. ``text`` is the verse without whitespace; ``source`` is ``file:line`` (text
    layouts) or ``file[item]`` (JSON), for error messages and provenance."""
    text: str
    title: str = ""
    author: str = ""
    id: str = ""
    source: str = ""


_WS_RE = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _WS_RE.sub("", text)


def _read_text(path: str | os.PathLike) -> list[str]:
    with open(path, encoding="utf-8-sig") as f:  # -sig: tolerate a byte-order mark
        return f.read().splitlines()


def read_title_content(path: str | os.PathLike, errors: str = "raise") -> list[Poem]:
    """Read ``title:content`` lines (one poem a line; blank lines are skipped).

    The line is split at its first colon (``:`` or the full-width ``：``). A line without a colon or
    with an empty content is an error naming the file and line, or is skipped with
    ``errors="skip"``.
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"read_title_content: errors must be 'raise' or 'skip', got {errors!r}")
    poems = []
    for lineno, line in enumerate(_read_text(path), 1):
        if not line.strip():
            continue
        m = re.match(r"^([^:：]*)[:：](.*)$", line)
        content = _clean(m.group(2)) if m else ""
        if not content:
            if errors == "skip":
                continue
            what = "no ':' between title and content" if m is None else "an empty content"
            raise ValueError(f"{path}:{lineno}: expected 'title:content', got {what}: "
                             f"{line[:40]!r}")
        poems.append(Poem(content, title=m.group(1).strip(), source=f"{path}:{lineno}"))
    return poems


def read_blank_line(path: str | os.PathLike) -> list[Poem]:
    """Read poems separated by one or more blank lines; a poem's lines are concatenated."""
    poems, block, start = [], [], 0
    for lineno, line in enumerate(_read_text(path) + [""], 1):
        if line.strip():
            if not block:
                start = lineno
            block.append(line)
        elif block:
            poems.append(Poem(_clean("".join(block)), source=f"{path}:{start}"))
            block = []
    return poems


def read_chinese_poetry(path: str | os.PathLike) -> list[Poem]:
    """Read a chinese-poetry JSON file: a list of ``{"author", "paragraphs", "title", "id"}``."""
    items = read_json(path)
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a JSON list of poems, got {type(items).__name__}")
    poems = []
    for i, item in enumerate(items):
        paragraphs = item.get("paragraphs") if isinstance(item, dict) else None
        if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
            got = type(item).__name__ if not isinstance(item, dict) else \
                f"paragraphs={paragraphs!r}"[:60]
            raise ValueError(f"{path}: item {i} must be an object with a list of strings "
                             f"'paragraphs', got {got}")
        poems.append(Poem(_clean("".join(paragraphs)), title=str(item.get("title", "")),
                          author=str(item.get("author", "")), id=str(item.get("id", "")),
                          source=f"{path}[{i}]"))
    return poems


def read_poems(path: str | os.PathLike, layout: str = "auto", **kwargs) -> list[Poem]:
    """Read ``path`` in ``layout`` (one of ``title_content``, ``blank_line``, ``chinese_poetry``).

    ``"auto"`` picks ``chinese_poetry`` for ``.json`` files, ``title_content`` when most non-blank
    lines hold a colon, ``blank_line`` otherwise.
    """
    if layout == "auto":
        if str(path).endswith(".json"):
            layout = "chinese_poetry"
        else:
            lines = [l for l in _read_text(path) if l.strip()]
            with_colon = sum((":" in l or "：" in l) for l in lines)
            layout = "title_content" if lines and with_colon > len(lines) / 2 else "blank_line"
    if layout == "title_content":
        return read_title_content(path, **kwargs)
    if layout == "blank_line":
        return read_blank_line(path)
    if layout == "chinese_poetry":
        return read_chinese_poetry(path)
    raise ValueError(f"read_poems: layout must be 'auto' or one of {LAYOUTS}, got {layout!r}")


# ----------------------------------------------------------------------------------------------
# filters and the form check

#: symbols that mark editorial notes, lacunae or markup rather than verse (nndl's filter drops
#: poems holding ``_ ( （ 《 [``; chinese-poetry uses ``□`` for illegible characters and ``[]``/``{}``
#: for notes).
UNWANTED_SYMBOLS = frozenset("_()（）《》[]【】{}<>□/「」『』")
_IDEOGRAPH_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_VERSE_PUNCT = frozenset("，。？！；：、")


def has_unwanted_symbols(text: str, unwanted: Iterable[str] = UNWANTED_SYMBOLS,
                         strict: bool = False) -> bool:
    """Whether ``text`` holds any of ``unwanted``; with ``strict``, also any character that is
    neither a CJK ideograph nor verse punctuation (``，。？！；：、``), e.g. Latin letters or digits."""
    unwanted = set(unwanted)
    for ch in text:
        if ch in unwanted:
            return True
        if strict and ch not in _VERSE_PUNCT and not _IDEOGRAPH_RE.match(ch):
            return True
    return False


def filter_poems(poems: Iterable[Poem], min_len: int | None = 5, max_len: int | None = None,
                 unwanted: Iterable[str] | None = UNWANTED_SYMBOLS, strict: bool = False,
                 regulated_only: bool = False, line_lengths: Sequence[int] = (5, 7),
                 num_lines: Sequence[int] = (4, 8)) -> list[Poem]:
    """Keep the poems that pass every filter.

    Args:
        poems: the poems.
        min_len, max_len: bounds on ``len(poem.text)`` (punctuation counted; ``None``: no bound).
            nndl's exercise keeps 5..80.
        unwanted: drop poems holding any of these symbols (``None``: no symbol filter).
        strict: with ``unwanted``, also drop poems with any non-ideograph, non-punctuation
            character.
        regulated_only: keep only poems that pass :func:`check_form` with ``line_lengths`` and
            ``num_lines``.
    """
    out = []
    for p in poems:
        n = len(p.text)
        if (min_len is not None and n < min_len) or (max_len is not None and n > max_len):
            continue
        if unwanted is not None and has_unwanted_symbols(p.text, unwanted, strict):
            continue
        if regulated_only and not check_form(p.text, line_lengths, num_lines):
            continue
        out.append(p)
    return out


def split_verse_lines(text: str, punctuation: str = "，。？！；：、") -> list[tuple[str, str]]:
    """Split ``text`` after each punctuation mark: ``[(line, mark), ...]``; a tail without a mark
    comes last with mark ``""``. Whitespace is ignored."""
    text = _clean(text)
    out, start = [], 0
    for i, ch in enumerate(text):
        if ch in punctuation:
            out.append((text[start:i], ch))
            start = i + 1
    if start < len(text):
        out.append((text[start:], ""))
    return out


@dataclass(frozen=True)
class FormCheck:
    """The verdict of :func:`check_form`: truthy when well formed; ``reason`` says what is wrong."""
    ok: bool
    reason: str = ""
    line_length: int | None = None
    num_lines: int = 0

    def __bool__(self) -> bool:
        return self.ok


def check_form(text: str, line_lengths: int | Sequence[int] = (5, 7),
               num_lines: int | Sequence[int] = (4, 8)) -> FormCheck:
    """Check that ``text`` is regulated verse.

    Well formed means: the text (whitespace ignored) is a sequence of lines, each made only of CJK
    ideographs and followed by exactly one mark; line ``i`` (1-based) is followed by ``，`` when
    ``i`` is odd and by ``。`` when ``i`` is even; all lines have the same length, one of
    ``line_lengths``; the number of lines is one of ``num_lines``. So ``床前明月光，疑是地上霜。举头望明月，低头思故乡。``
    passes with the defaults.

    Args:
        text: the poem.
        line_lengths: allowed characters per line (default 5 or 7).
        num_lines: allowed numbers of lines (default 4 or 8).
    """
    allowed_len = {line_lengths} if isinstance(line_lengths, int) else set(line_lengths)
    allowed_num = {num_lines} if isinstance(num_lines, int) else set(num_lines)
    lines = split_verse_lines(text)
    n = len(lines)
    if n == 0:
        return FormCheck(False, "empty text")
    length = len(lines[0][0])
    for i, (line, mark) in enumerate(lines, 1):
        want = "，" if i % 2 else "。"
        if mark != want:
            got = f"'{mark}'" if mark else "no punctuation"
            return FormCheck(False, f"line {i} ({line}) ends with {got}, expected '{want}'",
                             length, n)
        bad = [ch for ch in line if not _IDEOGRAPH_RE.match(ch)]
        if bad:
            return FormCheck(False, f"line {i} ({line}) holds non-ideographs {''.join(bad)!r}",
                             length, n)
        if len(line) != length:
            return FormCheck(False, f"line {i} ({line}) has {len(line)} characters, line 1 has "
                             f"{length}", length, n)
    if length not in allowed_len:
        return FormCheck(False, f"lines have {length} characters, expected one of "
                         f"{sorted(allowed_len)}", length, n)
    if n not in allowed_num:
        return FormCheck(False, f"{n} lines, expected one of {sorted(allowed_num)}", length, n)
    return FormCheck(True, "", length, n)


def is_well_formed(text: str, line_lengths: int | Sequence[int] = (5, 7),
                   num_lines: int | Sequence[int] = (4, 8)) -> bool:
    """``bool(check_form(text, line_lengths, num_lines))``."""
    return check_form(text, line_lengths, num_lines).ok


# ----------------------------------------------------------------------------------------------
# traditional -> simplified

_CONVERTER_HELP = ("converting to simplified characters needs a converter: pip install "
                   "opencc-python-reimplemented (or opencc, hanziconv, zhconv)")


def simplified_converter() -> Callable[[str], str] | None:
    """A function converting traditional to simplified characters, from the first installed of
    ``opencc`` (either distribution), ``hanziconv``, ``zhconv``; ``None`` if none is installed."""
    try:
        import opencc
        for config in ("t2s", "t2s.json"):
            try:
                return opencc.OpenCC(config).convert
            except Exception:  # the two opencc distributions name the config differently
                continue
    except ImportError:
        pass
    try:
        from hanziconv import HanziConv
        return HanziConv.toSimplified
    except ImportError:
        pass
    try:
        import zhconv
        return lambda s: zhconv.convert(s, "zh-hans")
    except ImportError:
        pass
    return None


def to_simplified(text: str) -> str:
    """``text`` in simplified characters; ``ImportError`` saying what to install when no converter
    is available."""
    convert = simplified_converter()
    if convert is None:
        raise ImportError(_CONVERTER_HELP)
    return convert(text)


# ----------------------------------------------------------------------------------------------
# the dataset

_CP_COMMIT = "99ebbef7e1345c0985c44b9fd96a3f9e776f117b"
_CP_URL = ("https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/" + _CP_COMMIT +
           "/%E5%85%A8%E5%94%90%E8%AF%97/poet.tang.{}.json")  # the folder is 全唐诗
_CP_MD5 = {
    0: "f457cf0334e903c0d08d1e1fcbd1030c", 1000: "4d2f286ea326667bc08e32971c90a11c",
    2000: "821a70dd95b436614c6b0ae5cf9449d6", 3000: "c2b72b6e1a9dc4f02ef8f70f29e93199",
    4000: "4112a429624619e71c9d1f965de16f5f", 5000: "2b8aa5b988232171c611c46137adfee0",
    6000: "35f0ce9926b437d26d5f12872ffd42c5", 7000: "bd6c50e5c892ef3e013c773d1147e80b",
    8000: "ed7244bdf675af4a3d44d9e84eed9930", 9000: "c8704256bb530c6e3629e2106b93b6f4",
}
_TANGSHI_URL = ("https://raw.githubusercontent.com/nndl/exercise/"
                "6fe84b5490f6dce789eba2c1b9b7128fe2f5bda4/chap6_RNN/tangshi.txt")
_TANGSHI_MD5 = "d126df207447b292a0988c6ecba3d675"

SPLITS = ("train", "valid", "test")


def split_of(text: str, fractions: Sequence[float] = (0.9, 0.05, 0.05), seed: int = 0) -> str:
    """The split (``"train"``, ``"valid"`` or ``"test"``) a text belongs to.

    Decided by the md5 of ``seed`` and the text, mapped to ``[0, 1)`` and cut at the cumulative
    ``fractions``: deterministic across runs and machines, independent of file order and of which
    other poems are kept, and a text repeated in the corpus always lands in one split (no leak from
    duplicates). Fractions hold in expectation, not exactly.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"split_of: fractions must be 3 non-negative numbers summing to 1, got "
                         f"{tuple(fractions)}")
    h = hashlib.md5(f"{seed}\x00{text}".encode("utf-8")).digest()
    u = int.from_bytes(h[:8], "big") / 2.0 ** 64
    if u < fractions[0]:
        return "train"
    return "valid" if u < fractions[0] + fractions[1] else "test"


class TangPoems(FileDataset):
    r"""Tang poems in one layout, filtered and split deterministically.

    Files are looked up under ``root``; missing ones are downloaded from their canonical source
    (checked against a known md5) when ``download`` is true:

    * ``chinese_poetry``: ``root/chinese_poetry_quantangshi/poet.tang.{0,1000,...,9000}.json``
      (10,008 poems, traditional characters) from the chinese-poetry repository at commit
      ``99ebbef``; pass ``files=`` for others (e.g. ``[f"poet.tang.{k}.json" for k in range(0,
      58000, 1000)]``; files beyond the first ten download without an md5 check).
    * ``blank_line``: ``root/tangshi.txt`` (168 poems, simplified) from nndl/exercise.
    * ``title_content``: ``root/poems.txt``; it has no verified public source, so it must be put
      there by hand.

    Files that are missing and cannot be fetched are a
    :class:`~graphrnn.datasets.base.DataNotFoundError` naming them, the folder and the source.
    The items are :class:`Poem` objects; ``dataset.texts`` lists their texts.

    Args:
        root: the folder holding the files (``../shared/data/tang_poems`` has the first two).
        layout: ``"chinese_poetry"`` (default), ``"blank_line"`` or ``"title_content"``; with
            ``files=``, also ``"auto"`` (each file's layout detected, see :func:`read_poems`).
        split: ``"train"``, ``"valid"``, ``"test"`` or ``"all"``.
        files: file names (relative to the layout's folder, or absolute: your own files in the
            layout) overriding the defaults.
        download: fetch missing files (default True).
        check_md5: check files that have a known md5 (default True).
        simplified: convert to simplified characters (needs a converter, see
            :func:`to_simplified`), before filtering and splitting.
        min_len, max_len, unwanted, strict, regulated_only, line_lengths, num_lines: passed to
            :func:`filter_poems` (defaults: at least 5 characters, no unwanted symbols).
        dedupe: keep one copy of poems with identical text (default True).
        fractions: train/valid/test fractions (default 0.9/0.05/0.05), see :func:`split_of`.
        seed: salt of the split hash (default 0).
    """

    source = ("https://github.com/chinese-poetry/chinese-poetry (全唐诗/poet.tang.*.json) and "
              "https://github.com/nndl/exercise (chap6_RNN/tangshi.txt)")
    card = "datasets/tang_poems.md"

    def __init__(self, root: str | os.PathLike, layout: str = "chinese_poetry",
                 split: str = "train", *, files: Sequence[str] | None = None, download: bool = True,
                 check_md5: bool = True, simplified: bool = False, min_len: int | None = 5,
                 max_len: int | None = None, unwanted: Iterable[str] | None = UNWANTED_SYMBOLS,
                 strict: bool = False, regulated_only: bool = False,
                 line_lengths: Sequence[int] = (5, 7), num_lines: Sequence[int] = (4, 8),
                 dedupe: bool = True, fractions: Sequence[float] = (0.9, 0.05, 0.05),
                 seed: int = 0):
        if layout not in LAYOUTS + ("auto",) or (layout == "auto" and files is None):
            raise ValueError(f"TangPoems: layout must be one of {LAYOUTS} (or 'auto' with files=),"
                             f" got {layout!r}")
        if split not in SPLITS + ("all",):
            raise ValueError(f"TangPoems: split must be one of {SPLITS + ('all',)}, got {split!r}")
        self.layout, self.split = layout, split
        self._files = list(files) if files is not None else None
        super().__init__(root, download=download, check_md5=check_md5)
        poems = self.items
        if simplified:
            convert = simplified_converter()
            if convert is None:
                raise ImportError(f"TangPoems(simplified=True): {_CONVERTER_HELP}")
            poems = [Poem(convert(p.text), convert(p.title), convert(p.author), p.id, p.source)
                     for p in poems]
        poems = filter_poems(poems, min_len, max_len, unwanted, strict, regulated_only,
                             line_lengths, num_lines)
        if dedupe:
            seen: set[str] = set()
            poems = [p for p in poems if not (p.text in seen or seen.add(p.text))]
        if split != "all":
            poems = [p for p in poems if split_of(p.text, fractions, seed) == split]
        self.poems: list[Poem] = poems
        self.items = poems

    # --- the FileDataset contract ----------------------------------------------------------------
    @property
    def raw_dir(self) -> Path:
        return self.root / "chinese_poetry_quantangshi" if self.layout == "chinese_poetry" \
            else self.root

    @property
    def raw_file_names(self) -> list[str]:
        if self._files is not None:
            return self._files
        if self.layout == "chinese_poetry":
            return [f"poet.tang.{k}.json" for k in sorted(_CP_MD5)]
        return ["tangshi.txt"] if self.layout == "blank_line" else ["poems.txt"]

    @property
    def md5(self) -> dict[str, str]:
        known = {f"poet.tang.{k}.json": m for k, m in _CP_MD5.items()} \
            if self.layout == "chinese_poetry" else \
            {"tangshi.txt": _TANGSHI_MD5} if self.layout == "blank_line" else {}
        return {name: known[name] for name in self.raw_file_names if name in known}

    def _source(self, name: str) -> tuple[str, str | None]:
        """(url, md5) of a raw file, or a FileNotFoundError explaining why there is none."""
        m = re.fullmatch(r"poet\.tang\.(\d+)\.json", name)
        if self.layout == "chinese_poetry" and m:
            k = int(m.group(1))
            return _CP_URL.format(k), _CP_MD5.get(k)
        if self.layout == "blank_line" and name == "tangshi.txt":
            return _TANGSHI_URL, _TANGSHI_MD5
        raise FileNotFoundError(f"{name} has no canonical download; put the file there by hand")

    def download(self) -> None:
        """Fetch every missing raw file into :attr:`raw_dir`."""
        for name, path in zip(self.raw_file_names, self.raw_paths):
            if not path.exists():
                url, md5 = self._source(name)
                download_url(url, path.parent, path.name, md5=md5)

    def process(self) -> list[Poem]:
        """Every poem of the raw files, in file order (before filtering and splitting)."""
        poems: list[Poem] = []
        for path in self.raw_paths:
            poems.extend(read_poems(path, self.layout))
        return poems

    # --- Dataset -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.poems)

    def __getitem__(self, index: int) -> Poem:
        return self.poems[index]

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.poems]

    def __repr__(self) -> str:
        return f"TangPoems({len(self)}, layout={self.layout!r}, split={self.split!r})"
