"""Training script run by test_distributed.py: once alone, once under ``torchrun`` with 2 processes.

Usage: ``[torchrun --nproc_per_node=N] ddp_worker.py OUT``. The global batch is 8 whatever N, so
every run should take the same steps; each process saves what it saw to ``OUT/rank{r}.pt``.
Not collected by pytest (no ``test_`` prefix).
"""
import copy
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graphrnn.train import distributed as D
from graphrnn.train.loop import Trainer

torch.set_num_threads(1)


def step(model, batch):
    x, y = batch
    out = model(x)
    return F.mse_loss(out, y), {"mae": (out - y).abs().mean()}


def main(out: Path) -> None:
    info = D.init_distributed()
    batch = 8 // info.world_size
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(24, 4, generator=g), torch.randn(24, 1, generator=g)
    train, val = TensorDataset(x[:16], y[:16]), TensorDataset(x[16:], y[16:])
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))

    # 1. gradients of one step: rank r gets samples r, r+N, ...; together the first 8
    ddp = D.wrap_model(copy.deepcopy(model), info.device)
    loader = D.distribute_loader(DataLoader(train, batch_size=batch), "loader")
    xb, yb = next(iter(loader))
    F.mse_loss(ddp(xb), yb).backward()
    grads = [p.grad.clone() for p in ddp.parameters()]

    # 2. a shuffled loader is split into disjoint shares that change with the epoch
    index = DataLoader(TensorDataset(torch.arange(16)), batch_size=batch, shuffle=True)
    index = D.distribute_loader(index, "index")
    shares = []
    for epoch in range(2):
        if hasattr(index.sampler, "set_epoch"):
            index.sampler.set_epoch(epoch)
        shares.append(torch.cat([b[0] for b in index]).tolist())

    # 3. the training loop, unchanged between 1 and N processes
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), step, max_epochs=3,
                      seed=0, out_dir=out / f"run{info.rank}", tensorboard=False)
    history = trainer.fit(DataLoader(train, batch_size=batch), DataLoader(val, batch_size=3))
    # 4. a custom evaluate_fn reads the whole validation set on every process
    def count_and_max(model, loader):
        with torch.no_grad():
            errors = torch.cat([(model(xb) - yb).abs().flatten() for xb, yb in loader])
        return {"count": errors.numel(), "max_error": errors.max()}

    torch.manual_seed(0)
    custom_model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    custom = Trainer(custom_model, torch.optim.SGD(custom_model.parameters(), lr=0.1), step,
                     evaluate_fn=count_and_max, monitor="val_max_error", max_epochs=2, seed=0,
                     out_dir=out / f"custom{info.rank}", tensorboard=False, progress=False)
    custom_history = custom.fit(DataLoader(train, batch_size=batch), DataLoader(val, batch_size=3))

    torch.save({"world_size": info.world_size, "grads": grads, "shares": shares,
                "custom_history": [{k: v for k, v in r.items() if k.startswith("val_")}
                                   for r in custom_history],
                "weights": [p.detach().clone() for p in D.unwrap_model(trainer.model).parameters()],
                "history": [{k: v for k, v in r.items() if k != "time"} for r in history]},
               out / f"rank{info.rank}.pt")
    D.cleanup()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
