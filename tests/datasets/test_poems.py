import json
import sys
import types

import pytest

from graphrnn.datasets import poems as P
from graphrnn.datasets.poems import (
    Poem,
    check_form,
    filter_poems,
    has_unwanted_symbols,
    is_well_formed,
    read_blank_line,
    read_chinese_poetry,
    read_poems,
    read_title_content,
    to_simplified,
)

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
    items = [{"author": "李白",
              "paragraphs": ["床前明月光，疑是地上霜。", "举头望明月，低头思故乡。"],
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
