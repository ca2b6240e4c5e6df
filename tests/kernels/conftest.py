"""Fixtures shared by the kernel tests."""
import pytest
import torch


@pytest.fixture(params=["blas", "blas_nn", "onednn"])
def product_path(request):
    """Every product route of :mod:`graphrnn.kernels.products` in turn (those this build has),
    forced for the test and measured again after it."""
    from graphrnn.kernels import products
    if request.param not in products.candidate_paths(torch.float32, torch.device("cpu")):
        pytest.skip(f"{request.param} is not available in this build")
    products.set_product_path(request.param)
    yield request.param
    products.set_product_path(None)
