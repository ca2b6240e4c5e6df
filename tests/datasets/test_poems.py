import json
import sys
import types
from pathlib import Path

import pytest

from graphrnn.datasets.base import DataNotFoundError
from graphrnn.datasets import poems as P
from graphrnn.datasets.poems import (Poem, TangPoems, check_form, filter_poems,
                                     has_unwanted_symbols, is_well_formed, read_blank_line, read_chinese_poetry,
                                     read_poems, read_title_content, split_of, to_simplified)
from graphrnn.io import shared_data

JING_YE_SI = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
LU_CHAI = "空山不见人，但闻人语响。返景入深林，复照青苔上。"


def test_read_title_content(tmp_path):
    f = tmp_path / "poems.txt"
    f.write_text(f"静夜思:{JING_YE_SI}\n\n鹿柴：空山不见人， 但闻人语响。\n", encoding="utf-8")
    poems = read_title_content(f)
    assert [p.title for p in poems] == ["静夜思", "鹿柴"]
    assert poems[0].text == JING_YE_SI
    assert poems[1].text == "空山不见人，但闻人语响。"  # inner whitespace removed
    assert poems[1].source.endswith("poems.txt:3")


def test_read_title_content_errors_name_file_and_line(tmp_path):
    f = tmp_path / "poems.txt"
    f.write_text(f"静夜思:{JING_YE_SI}\n没有冒号的一行\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"poems.txt:2: expected 'title:content'"):
        read_title_content(f)
    assert len(read_title_content(f, errors="skip")) == 1


def test_read_blank_line(tmp_path):
    f = tmp_path / "tangshi.txt"
    f.write_text("\ufeff床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n\n\n"
                 f"{LU_CHAI}\n   \n", encoding="utf-8")
    poems = read_blank_line(f)
    assert [p.text for p in poems] == [JING_YE_SI, LU_CHAI]
    assert poems[1].source.endswith("tangshi.txt:5")


def test_read_chinese_poetry(tmp_path):
    f = tmp_path / "poet.tang.0.json"
    items = [{"author": "李白", "paragraphs": ["床前明月光，疑是地上霜。", "举头望明月，低头思故乡。"],
              "title": "静夜思", "id": "x1"}]
    f.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    (p,) = read_chinese_poetry(f)
    assert (p.text, p.author, p.title, p.id) == (JING_YE_SI, "李白", "静夜思", "x1")
    f.write_text(json.dumps(items + [{"title": "broken"}], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="item 1"):
        read_chinese_poetry(f)


def test_read_poems_auto_layout(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text(f"t1:{JING_YE_SI}\nt2:{LU_CHAI}\n", encoding="utf-8")
    b = tmp_path / "b.txt"
    b.write_text(f"{JING_YE_SI}\n\n{LU_CHAI}\n", encoding="utf-8")
    assert [p.title for p in read_poems(a)] == ["t1", "t2"]
    assert [p.text for p in read_poems(b)] == [JING_YE_SI, LU_CHAI]
    with pytest.raises(ValueError, match="layout"):
        read_poems(a, layout="csv")


@pytest.mark.parametrize("text,ok,reason", [
    (JING_YE_SI, True, ""),
    ("床前明月光\n疑是地上霜。举头望明月，低头思故乡。", False, "line 1"),       # missing ，
    ("床前明月光，疑是地上霜。举头望明月。低头思故乡，", False, "line 3"),        # marks swapped
    ("床前明月光，疑是地上霜。举头望明月，低头思故乡", False, "no punctuation"),
    ("床前明月光，疑是地上霜。举头望明，低头思故乡。", False, "4 characters"),
    ("床前明月光，疑是地上霜。", False, "2 lines"),
    ("床前明月光照，疑是地上霜白。举头望明月光，低头思故乡里。", False, "6 characters"),
    ("床前明月光，疑是a上霜。举头望明月，低头思故乡。", False, "non-ideographs"),
])
def test_check_form(text, ok, reason):
    res = check_form(text)
    assert res.ok is ok and bool(res) is ok
    assert reason in res.reason


def test_check_form_requested_form():
    assert check_form(JING_YE_SI, 5, 4).ok
    assert not is_well_formed(JING_YE_SI, 7, 4)
    assert not is_well_formed(JING_YE_SI, 5, 8)
    seven = "朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
    assert check_form(seven).line_length == 7 and is_well_formed(seven, 7, 4)


def test_filters():
    poems = [Poem(JING_YE_SI), Poem("春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少（一作几多）。"),
             Poem("短句。"), Poem("白日依山尽，黄河入海流。欲穷千里目，更上一层楼abc。")]
    assert has_unwanted_symbols(poems[1].text) and not has_unwanted_symbols(poems[0].text)
    assert not has_unwanted_symbols(poems[3].text) and has_unwanted_symbols(poems[3].text,
                                                                           strict=True)
    kept = filter_poems(poems)
    assert [p.text for p in kept] == [JING_YE_SI, poems[3].text]
    assert [p.text for p in filter_poems(poems, strict=True)] == [JING_YE_SI]
    assert filter_poems(poems, max_len=20) == []
    assert len(filter_poems(poems, min_len=None, unwanted=None)) == 4
    assert [p.text for p in filter_poems(poems, regulated_only=True)] == [JING_YE_SI]


def test_simplified_without_converter_is_a_clear_error(monkeypatch):
    for name in ("opencc", "hanziconv", "zhconv"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails
    assert P.simplified_converter() is None
    with pytest.raises(ImportError, match="pip install"):
        to_simplified("國")


def test_simplified_uses_an_installed_converter(monkeypatch):
    fake = types.ModuleType("opencc")

    class OpenCC:
        def __init__(self, config):
            assert config in ("t2s", "t2s.json")

        def convert(self, s):
            return s.replace("國", "国").replace("壯", "壮")
    fake.OpenCC = OpenCC
    monkeypatch.setitem(sys.modules, "opencc", fake)
    assert to_simplified("壯國") == "壮国"


def test_split_is_deterministic_and_roughly_proportional():
    texts = [f"诗{i}" for i in range(3000)]
    splits = [split_of(t) for t in texts]
    assert splits == [split_of(t) for t in texts]
    frac = splits.count("train") / len(splits)
    assert 0.87 < frac < 0.93 and splits.count("test") > 0 and splits.count("valid") > 0
    assert [split_of(t, seed=1) for t in texts] != splits
    with pytest.raises(ValueError, match="fractions"):
        split_of("x", (0.5, 0.5, 0.5))


def _write_corpus(folder: Path, n: int = 60):
    folder.mkdir(parents=True)
    chars = "春夏秋冬山水风月花鸟云雨天地江河日夜红青白"
    items = []
    for i in range(n):
        def line(k):  # 5 characters; the first two spell i, so all n poems differ
            return chars[i % 21] + chars[(i // 21 + k) % 21] + chars[k:k + 3]
        items.append({"author": "a", "title": f"t{i}", "id": str(i),
                      "paragraphs": [f"{line(0)}，{line(1)}。", f"{line(2)}，{line(3)}。"]})
    items.append(dict(items[0]))                                  # a duplicate
    items.append({"author": "a", "title": "bad", "id": "b", "paragraphs": ["□□明月光，疑是地上霜。"]})
    (folder / "poet.tang.0.json").write_text(json.dumps(items, ensure_ascii=False),
                                             encoding="utf-8")


def test_tang_poems_local_splits(tmp_path):
    _write_corpus(tmp_path / "chinese_poetry_quantangshi")
    kw = dict(files=["poet.tang.0.json"], download=False, check_md5=False)   # hand-made file
    parts = {s: TangPoems(tmp_path, split=s, **kw) for s in ("train", "valid", "test")}
    everything = TangPoems(tmp_path, split="all", **kw)
    assert len(everything) == 60                       # duplicate and the □ poem dropped
    texts = [set(d.texts) for d in parts.values()]
    assert sum(map(len, texts)) == 60 and set.union(*texts) == set(everything.texts)
    assert not (texts[0] & texts[1]) and not (texts[0] & texts[2])
    again = TangPoems(tmp_path, split="train", **kw)
    assert again.texts == parts["train"].texts
    assert isinstance(everything[0], Poem)


def test_tang_poems_missing_file_names_files_folder_and_source(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"poet.tang.0.json, .*poet.tang.9000.json "
                                                r".*absent.*chinese-poetry.*datasets/tang_poems.md"):
        TangPoems(tmp_path / "absent", download=False)
    assert not (tmp_path / "absent").exists()
    with pytest.raises(DataNotFoundError, match="poems.txt .*no canonical download"):
        TangPoems(tmp_path, layout="title_content")


def test_tang_poems_reads_your_own_file_in_any_layout(tmp_path):
    mine = tmp_path / "mine.txt"
    mine.write_text("静夜思:床前明月光，疑是地上霜。举头望明月，低头思故乡。\n", encoding="utf-8")
    ds = TangPoems(tmp_path / "elsewhere", layout="title_content", split="all", files=[str(mine)])
    assert ds.texts == ["床前明月光，疑是地上霜。举头望明月，低头思故乡。"] and ds[0].title == "静夜思"


def test_tang_poems_downloads_missing_files(tmp_path, monkeypatch):
    calls = []

    def fake_download(url, folder, filename=None, md5=None):
        calls.append((url, md5))
        _write_corpus(Path(folder))
        return Path(folder) / filename
    monkeypatch.setattr(P, "download_url", fake_download)
    ds = TangPoems(tmp_path, files=["poet.tang.0.json"], split="all", check_md5=False)
    assert len(ds) == 60
    (url, md5), = calls
    assert url.startswith("https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/")
    assert url.endswith("/%E5%85%A8%E5%94%90%E8%AF%97/poet.tang.0.json")
    assert md5 == "f457cf0334e903c0d08d1e1fcbd1030c"


SHARED = shared_data("tang_poems")


@pytest.mark.skipif(not (SHARED / "tangshi.txt").exists(), reason="shared Tang poems not present")
def test_shared_files():
    small = TangPoems(SHARED, layout="blank_line", split="all", download=False)
    assert len(small) == 168 and small[0].text.startswith("巴山上峡重复重，")
    big = TangPoems(SHARED, split="all", download=False, min_len=None, unwanted=None, dedupe=False)
    assert len(big) == 10008
    regulated = TangPoems(SHARED, split="all", download=False, regulated_only=True)
    assert all(is_well_formed(t) for t in regulated.texts) and len(regulated) > 4000
