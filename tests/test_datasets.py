"""tapegrad.datasets: the shipped digits data loads offline with the documented layout."""

import numpy as np

import tapegrad
from tapegrad.datasets import load_digits


def test_load_digits_shapes_dtypes_and_ranges():
    images, labels = load_digits()
    assert images.shape == tapegrad.Size([1797, 8, 8]) and images.dtype == tapegrad.uint8
    assert labels.shape == tapegrad.Size([1797]) and labels.dtype == tapegrad.int64
    assert int(images.numpy().max()) == 16 and int(images.numpy().min()) == 0
    counts = np.bincount(labels.numpy())
    assert counts.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # The first sample is a zero (as in the UCI file): a ring of ink around an empty middle.
    first = images[0].numpy()
    assert labels[0].item() == 0 and first[3:5, 3:5].sum() == 0 and first.sum() > 200


def test_load_digits_returns_independent_tensors():
    images, _ = load_digits()
    images.numpy()[0, 0, 0] = 99
    assert load_digits()[0][0, 0, 0].item() == 0
