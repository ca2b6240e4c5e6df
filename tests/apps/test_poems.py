"""graphrnn train|evaluate|generate poems: on your own poem file, on the Tang poems (quick),
well-formed and reproducible generation, a warm restart, and a missing data folder."""
import pytest

from graphrnn.apps import call
from graphrnn.datasets.base import DataNotFoundError
from graphrnn.datasets.poems import check_form
from graphrnn.io import shared_data
from graphrnn.train import load_checkpoint

POEM_ROOT = shared_data("tang_poems")
LINES = ["白日依山尽", "黄河入海流", "欲穷千里目", "更上一层楼", "床前明月光", "疑是地上霜",
         "举头望明月", "低头思故乡", "春眠不觉晓", "处处闻啼鸟", "夜来风雨声", "花落知多少"]


@pytest.fixture
def own_poems(tmp_path):
    """200 distinct quatrains in the title:content layout, combined from 12 famous lines."""
    rows = []
    for i in range(200):
        a, b, c, d = (LINES[k] for k in (i % 12, i // 12 % 12, i // 144, i * 5 % 12))
        rows.append(f"诗{i}:{a}，{b}。{c}，{d}。")
    path = tmp_path / "mine.txt"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _train(out, *extra, orders=("2",)):
    return call("poems", "train", ["--epochs", "1", "--hidden", "16", "--embedding-dim", "16",
                                   "--orders", *orders, "--out", str(out), *extra])


def test_own_poems_train_evaluate_and_generate_well_formed_verse(own_poems, tmp_path):
    out = tmp_path / "run"
    result = _train(out, "--poems", str(own_poems), "--root", str(tmp_path / "absent"),
                    "--min-freq", "1")
    models = [row["model"] for row in result["table"]]
    assert models == ["Kneser-Ney 2-gram", "RNN (LSTM 1x16)"]
    assert all(row["valid"] > 1 and row["test"] > 1 for row in result["table"])
    assert (out / "results.json").is_file() and (out / "best.pt").is_file()
    table = call("poems", "evaluate", ["--out", str(out), "--orders", "2"])["table"]
    assert table[-1]["test"] == pytest.approx(result["table"][-1]["test"])
    made = call("poems", "generate", ["--out", str(out), "--begin", "白", "月", "--form", "7x4",
                                      "--num", "3", "--seed", "1"])
    poems = made["poems"]["白"] + made["poems"]["月"]
    assert made["well_formed"] == made["total"] == 6
    assert all(check_form(p, 7, 4) for p in poems) and poems[0].startswith("白")
    again = call("poems", "generate", ["--out", str(out), "--begin", "白", "月", "--form", "7x4",
                                       "--num", "3", "--seed", "1"])
    assert again["poems"] == made["poems"]                    # seeded: reproducible
    # a warm restart from those weights needs the same vocabulary
    restart = _train(tmp_path / "again", "--poems", str(own_poems), "--min-freq", "1",
                     "--init-from", str(out / "best.pt"))
    assert restart["epochs"] == 1
    settings = load_checkpoint(tmp_path / "again" / "best.pt")["config"]["settings"]
    assert settings["init_from"] == str(out / "best.pt")


def test_begin_outside_the_vocabulary_is_named(own_poems, tmp_path):
    _train(tmp_path, "--poems", str(own_poems), "--min-freq", "1", orders=())
    with pytest.raises(ValueError, match=r"--begin 龍: \['龍'\] not in the model's vocabulary"):
        call("poems", "generate", ["--out", str(tmp_path), "--begin", "龍"])


def test_missing_root_names_the_files_and_creates_nothing(tmp_path):
    where = tmp_path / "nowhere"
    with pytest.raises(DataNotFoundError, match=r"poet.tang.0.json.*nowhere.*chinese-poetry"):
        call("poems", "train", ["--root", str(where), "--out", str(tmp_path / "run")])
    assert not where.exists() and not (tmp_path / "run").exists()


@pytest.mark.skipif(not (POEM_ROOT / "chinese_poetry_quantangshi").is_dir(),
                    reason="needs ../shared/data/tang_poems")
def test_quick_run_on_tang_poems(tmp_path):
    result = call("poems", "train", ["--quick", "--epochs", "1", "--out", str(tmp_path)])
    assert [row["model"] for row in result["table"]][:2] == ["Kneser-Ney 2-gram",
                                                             "Kneser-Ney 3-gram"]
    assert check_form(result["sample"], 5, 4)
