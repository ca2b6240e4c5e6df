"""TangPoems: deterministic splits, local files, your own file, missing files, the download
(faked) and the shared copy when present."""
import json
from pathlib import Path

import pytest

from graphrnn.datasets import tang_poems as TP
from graphrnn.datasets.base import DataNotFoundError
from graphrnn.datasets.poems import Poem, is_well_formed
from graphrnn.datasets.tang_poems import TangPoems, split_of
from graphrnn.io import shared_data


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
    items.append({"author": "a", "title": "bad", "id": "b",
                  "paragraphs": ["□□明月光，疑是地上霜。"]})
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
    assert (ds.texts == ["床前明月光，疑是地上霜。举头望明月，低头思故乡。"]
            and ds[0].title == "静夜思")


def test_tang_poems_downloads_missing_files(tmp_path, monkeypatch):
    calls = []

    def fake_download(url, folder, filename=None, md5=None):
        calls.append((url, md5))
        _write_corpus(Path(folder))
        return Path(folder) / filename
    monkeypatch.setattr(TP, "download_url", fake_download)
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
