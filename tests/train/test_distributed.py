import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from graphrnn.train import distributed as D

WORKER = Path(__file__).with_name("ddp_worker.py")
DIST_ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, out):
    env = {k: v for k, v in os.environ.items() if k not in DIST_ENV}
    env.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    proc = subprocess.run([sys.executable, *args, str(WORKER), str(out)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_two_processes_match_one_process_on_the_combined_batch(tmp_path):
    single = run([], tmp_path / "one")
    for attempt in range(3):  # the free port may be taken between choosing and binding it
        try:
            multi = run(["-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
                         "--master_addr=127.0.0.1", f"--master_port={free_port()}"],
                        tmp_path / "two")
            break
        except AssertionError as err:
            if attempt == 2 or "address already in use" not in str(err).lower():
                raise
    ref = torch.load(tmp_path / "one" / "rank0.pt", weights_only=True)
    ranks = [torch.load(tmp_path / "two" / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert ref["world_size"] == 1 and [r["world_size"] for r in ranks] == [2, 2]
    for r in ranks:
        # DDP's averaged gradients equal those of one process on the combined batch
        for a, b in zip(r["grads"], ref["grads"]):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
        # three epochs of the loop: same weights, same (globally averaged) train and val metrics
        for a, b in zip(r["weights"], ref["weights"]):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
        for row, ref_row in zip(r["history"], ref["history"]):
            assert row == pytest.approx(ref_row, abs=1e-6)
        # a custom evaluate_fn saw all 8 validation samples, as one process does
        assert [row["val_count"] for row in r["custom_history"]] == [8.0, 8.0]
        for row, ref_row in zip(r["custom_history"], ref["custom_history"]):
            assert row == pytest.approx(ref_row, abs=1e-6)
    # each epoch the two shares of a shuffled loader are disjoint and cover the dataset, and
    # the shuffle changes with the epoch
    for epoch in (0, 1):
        a, b = ranks[0]["shares"][epoch], ranks[1]["shares"][epoch]
        assert sorted(a + b) == list(range(16))
    assert ranks[0]["shares"][0] != ranks[0]["shares"][1]
    # only rank 0 writes files and prints
    assert (tmp_path / "two" / "run0" / "last.pt").is_file()
    assert not (tmp_path / "two" / "run1").exists()
    assert sum(ln.startswith("epoch ") for ln in multi.splitlines()) == 3
    assert sum(ln.startswith("epoch ") for ln in single.splitlines()) == 3


def test_single_process_helpers_do_nothing():
    loader = DataLoader(TensorDataset(torch.arange(4)), batch_size=2)
    model = torch.nn.Linear(1, 1)
    assert D.get_world_size() == 1 and D.get_rank() == 0 and D.is_main_process()
    assert D.distribute_loader(loader) is loader
    assert D.wrap_model(model, torch.device("cpu")) is model
    info = D.init_distributed(device="cpu")
    assert (info.rank, info.world_size, info.is_main) == (0, 1, True)
    t = torch.ones(2)
    assert D.all_reduce_sum(t) is t and t.tolist() == [1.0, 1.0]
    assert D.all_gather_objects({"a": 1}) == [{"a": 1}]


def test_distribute_loader_keeps_pyg_collate_and_rejects_custom_batching(monkeypatch):
    from torch_geometric.data import Data
    from torch_geometric.loader import DataLoader as PygLoader

    monkeypatch.setattr(D, "get_world_size", lambda: 2)
    monkeypatch.setattr(D, "get_rank", lambda: 1)
    graphs = [Data(x=torch.full((i + 1, 1), float(i))) for i in range(6)]
    loader = D.distribute_loader(PygLoader(graphs, batch_size=2, shuffle=True), "train_loader")
    assert isinstance(loader.sampler, DistributedSampler) and loader.sampler.shuffle
    assert loader.sampler.rank == 1 and loader.sampler.num_replicas == 2
    batches = list(loader)
    assert sum(b.num_graphs for b in batches) == 3 and hasattr(batches[0], "batch")

    sampler = torch.utils.data.BatchSampler(range(6), 2, False)
    with pytest.raises(ValueError, match="val_loader uses a BatchSampler|val_loader uses a custom"):
        D.distribute_loader(DataLoader(list(range(6)), batch_sampler=sampler), "val_loader")
    weighted = torch.utils.data.WeightedRandomSampler([1.0] * 6, 6)
    with pytest.raises(ValueError, match="val_loader uses a WeightedRandomSampler"):
        D.distribute_loader(DataLoader(list(range(6)), sampler=weighted), "val_loader")


def test_bad_environment_is_named(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="WORLD_SIZE='two'"):
        D.init_distributed()
