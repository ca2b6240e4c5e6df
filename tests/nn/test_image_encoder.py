"""The convolutional image encoder and the region / column views of its grid."""
import pytest
import torch

from graphrnn.nn import ConvEncoder, grid_to_columns, grid_to_regions


def test_grid_shape_follows_the_pools():
    encoder = ConvEncoder(3, channels=(8, 16, 4), pool=[2, (2, 1), 1])
    assert encoder.output_size(64, 40) == (16, 20)
    grid = encoder(torch.randn(2, 3, 64, 40))
    assert grid.shape == (2, 4, 16, 20) and encoder.out_channels == 4
    assert "pools=[(2, 2), (2, 1), (1, 1)]" in repr(encoder)


def test_regions_are_row_major_positions_of_the_grid():
    grid = torch.arange(2 * 3 * 2 * 4, dtype=torch.float).view(2, 3, 2, 4)
    regions = grid_to_regions(grid)
    assert regions.shape == (2, 8, 3)
    # region i * W + j holds the channels of row i, column j
    assert torch.equal(regions[1, 1 * 4 + 2], grid[1, :, 1, 2])


def test_columns_are_time_major_and_stack_the_rows():
    grid = torch.randn(2, 3, 2, 5)
    columns = grid_to_columns(grid)
    assert columns.shape == (5, 2, 6)
    assert torch.equal(columns[4, 1], grid[1, :, :, 4].reshape(-1))


def test_each_image_is_encoded_on_its_own_in_eval_mode():
    torch.manual_seed(0)
    encoder = ConvEncoder(1, channels=(4, 4), pool=2, dropout=0.1).eval()
    images = torch.randn(3, 1, 8, 8)
    together = encoder(images)
    alone = encoder(images[1:2])
    assert torch.allclose(together[1:2], alone, atol=1e-6)


def test_gradients_reach_the_first_convolution():
    encoder = ConvEncoder(3, channels=(4, 8))
    encoder(torch.randn(2, 3, 16, 16)).sum().backward()
    assert encoder.layers[0].weight.grad.abs().sum() > 0


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        ConvEncoder(kernel_size=4)
    with pytest.raises(ValueError, match="pool gives 2 stages but channels 3"):
        ConvEncoder(pool=[2, 2])
    encoder = ConvEncoder(3, channels=(4,), pool=2)
    with pytest.raises(ValueError, match=r"images must be \(B, 3, H, W\)"):
        encoder(torch.randn(2, 1, 8, 8))
    with pytest.raises(ValueError, match="pool away to nothing"):
        encoder(torch.randn(2, 3, 1, 8))
