import os
import re

import pytest
import torch

import graphrnn.train.checkpoint as ckpt_mod
from graphrnn.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def make():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    sched.step()
    return model, opt, sched


def test_round_trip_restores_model_optimizer_scheduler_config_vocab(tmp_path):
    model, opt, sched = make()
    path = save_checkpoint(tmp_path / "a" / "c.pt", model, opt, sched, epoch=3,
                           config={"hidden": 8, "cell": "lstm", "dims": [1, 2]},
                           vocab=["<pad>", "a"])
    ck = load_checkpoint(path)
    assert ck["epoch"] == 3 and ck["config"] == {"hidden": 8, "cell": "lstm", "dims": [1, 2]}
    assert ck["vocab"] == ["<pad>", "a"]
    model2 = torch.nn.Linear(3, 2)
    opt2 = torch.optim.Adam(model2.parameters(), lr=1.0)
    sched2 = torch.optim.lr_scheduler.StepLR(opt2, step_size=1, gamma=0.5)
    model2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["optimizer"])
    sched2.load_state_dict(ck["scheduler"])
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), model2.parameters()))
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.05)
    assert torch.equal(opt2.state_dict()["state"][0]["exp_avg"],
                       opt.state_dict()["state"][0]["exp_avg"])
    assert sched2.last_epoch == 1
    # the file itself loads with plain torch.load(weights_only=True)
    torch.load(path, weights_only=True)


def test_ddp_or_compile_wrapper_is_unwrapped():
    class Wrapped(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self._orig_mod = inner

    inner = torch.nn.Linear(2, 2)
    from graphrnn.train.distributed import unwrap_model
    assert unwrap_model(Wrapped(inner)) is inner


def test_unsafe_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    torch.save({"format": "graphrnn.checkpoint", "version": 1, "epoch": 0, "model": {},
                "config": {}, "payload": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="evil.pt.*refusing"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not marker.exists()


def test_truncated_file_error_names_the_file(tmp_path):
    model, opt, _ = make()
    path = save_checkpoint(tmp_path / "c.pt", model, opt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"c\.pt is truncated or corrupt"):
        load_checkpoint(path)
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match=r"c\.pt"):
        load_checkpoint(path)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_checkpoint(tmp_path / "missing.pt")


def test_foreign_file_error_names_missing_fields(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"other\.pt lacks \['format'"):
        load_checkpoint(tmp_path / "other.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="holds a list"):
        load_checkpoint(tmp_path / "list.pt")


def test_crash_while_writing_keeps_previous_file(tmp_path, monkeypatch):
    model, opt, _ = make()
    path = save_checkpoint(tmp_path / "c.pt", model, opt, epoch=1)
    before = path.read_bytes()

    def dying_save(obj, f):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(ckpt_mod.torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model, opt, epoch=2)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_checkpoint(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["c.pt"]  # no temporary file left behind


def test_config_and_vocab_are_validated(tmp_path):
    model, path = torch.nn.Linear(1, 1), tmp_path / "c.pt"
    with pytest.raises(TypeError, match="config must be JSON-serialisable"):
        save_checkpoint(path, model, config={"fn": print})
    with pytest.raises(TypeError, match="config must be a dict"):
        save_checkpoint(path, model, config=[1])
    with pytest.raises(TypeError, match="vocab must be a list of str.*int"):
        save_checkpoint(path, model, vocab=["a", 1])
    assert not path.exists()


def _adam_checkpoint(path):
    """A checkpoint whose zip members are archive/data/0 (weight), .../3 (Adam's exp_avg)."""
    torch.manual_seed(0)
    model = torch.nn.Linear(64, 64)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 64)).sum().backward()
    optimizer.step()
    save_checkpoint(path, model, optimizer, config={"app": "toy"})
    return path



def _flip(path, member: str, count: int = 256) -> None:
    """Invert ``count`` bytes in the middle of a stored zip member (its CRC no longer holds)."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    raw = bytearray(path.read_bytes())
    # the local header is 30 bytes plus the name and extra field, then the stored bytes
    name_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len + info.file_size // 2 - count // 2
    for i in range(start, start + min(count, info.file_size)):
        raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("member, part", [("archive/data/0", "model (weight)"),
                                          ("archive/data/3", "optimizer (state/0/exp_avg)")])
def test_flipped_bytes_are_refused_naming_the_part(tmp_path, member, part):
    path = _adam_checkpoint(tmp_path / "archive.pt")
    _flip(path, member)
    with pytest.raises(CheckpointError, match=re.escape(f"is damaged: {part}")):
        load_checkpoint(path)


def test_crc_catches_damage_where_no_digest_was_stored(tmp_path):
    """Checkpoints written before digests existed are still checked by the archive's CRC."""
    path = tmp_path / "old.pt"
    torch.save({"format": "graphrnn.checkpoint", "version": 1, "epoch": 0, "config": {},
                "model": {"w": torch.arange(4096.0)}}, path)
    assert load_checkpoint(path)["model"]["w"][5] == 5
    _flip(path, "old/data/0", 16)  # torch.save names the archive's folder after the file
    with pytest.raises(CheckpointError, match="old/data/0 fails its CRC check"):
        load_checkpoint(path)


def test_refusal_never_advises_turning_safety_off(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("ran",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "graphrnn.checkpoint", "x": Payload()}, path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert "weights_only" not in str(err.value) and "print" in str(err.value)
