"""One training loop, safe checkpoints, metrics and multi-process (torchrun) training."""
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .distributed import cleanup, get_rank, get_world_size, init_distributed, is_main_process
from .history import plot_history, read_csv, write_csv
from .loop import Trainer
from .metrics import MetricAverager, batch_size_of, evaluate
from .rng import seed_everything

__all__ = ["Trainer", "evaluate", "MetricAverager", "batch_size_of", "save_checkpoint",
           "load_checkpoint", "CheckpointError", "init_distributed", "cleanup", "get_rank",
           "get_world_size", "is_main_process", "plot_history", "read_csv", "write_csv",
           "seed_everything"]
