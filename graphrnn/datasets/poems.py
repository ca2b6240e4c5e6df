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
punctuation is in place: ``，`` after each odd line and ``。`` after each even one.
:func:`check_form` tests this, both to filter a corpus and to judge generated poems. The data set
built on these readers, :class:`~graphrnn.datasets.tang_poems.TangPoems`, is in
:mod:`graphrnn.datasets.tang_poems`.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..io import read_json, read_lines

__all__ = [
    "Poem", "read_title_content", "read_blank_line", "read_chinese_poetry", "read_poems",
    "UNWANTED_SYMBOLS", "has_unwanted_symbols", "filter_poems", "split_verse_lines", "FormCheck",
    "check_form", "is_well_formed", "simplified_converter", "to_simplified",
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


def read_title_content(path: str | os.PathLike, errors: str = "raise") -> list[Poem]:
    """Read ``title:content`` lines (one poem a line; blank lines are skipped).

    The line is split at its first colon (``:`` or the full-width ``：``). A line without a colon or
    with an empty content is an error naming the file and line, or is skipped with
    ``errors="skip"``.
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"read_title_content: errors must be 'raise' or 'skip', got {errors!r}")
    poems = []
    for lineno, line in enumerate(read_lines(path), 1):
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
    for lineno, line in enumerate(read_lines(path) + [""], 1):
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
            lines = [l for l in read_lines(path) if l.strip()]
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
#: poems holding ``_ ( （ 《 [``; chinese-poetry uses ``□`` for illegible characters and
#: ``[]``/``{}`` for notes).
UNWANTED_SYMBOLS = frozenset("_()（）《》[]【】{}<>□/「」『』")
_IDEOGRAPH_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_VERSE_PUNCT = frozenset("，。？！；：、")


def has_unwanted_symbols(text: str, unwanted: Iterable[str] = UNWANTED_SYMBOLS,
                         strict: bool = False) -> bool:
    """Whether ``text`` holds any of ``unwanted``; with ``strict``, also any character that is
    neither a CJK ideograph nor verse punctuation (``，。？！；：、``), e.g. Latin letters or
    digits."""
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
    ``line_lengths``; the number of lines is one of ``num_lines``. So
    ``床前明月光，疑是地上霜。举头望明月，低头思故乡。`` passes with the defaults.

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
