import pytest
import torch

from graphrnn.train import example_parser, resolve_device


def test_example_parser_has_the_shared_options():
    args = example_parser("demo", epochs=7).parse_args(["--quick", "--seed", "3"])
    assert (args.epochs, args.seed, args.quick, args.out, args.device) == (7, 3, True, "runs/demo", "auto")


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match="CUDA is not available"):
            resolve_device("cuda")


def test_load_for_evaluation_reads_out_best_by_default(tmp_path):
    from graphrnn.train import load_for_evaluation, save_checkpoint

    model = torch.nn.Linear(2, 1)
    save_checkpoint(tmp_path / "best.pt", model, config={"hidden": 3})
    args = example_parser("demo").parse_args(["--out", str(tmp_path), "--device", "cpu"])
    args.checkpoint = None
    device, ckpt, path = load_for_evaluation(args)
    assert device == torch.device("cpu") and ckpt["config"] == {"hidden": 3}
    assert path == tmp_path / "best.pt"
