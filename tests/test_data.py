"""utils.data: datasets, DataLoader batching and shuffling, default_collate like torch's."""

from collections import namedtuple

import numpy as np
import pytest

import tapegrad
from tapegrad.utils.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

torch = pytest.importorskip("torch")


def _describe(obj):
    """A library-neutral description: tensors as (dtype, shape, values)."""
    if isinstance(obj, (tapegrad.Tensor, torch.Tensor)):
        return ("T", str(obj.dtype).split(".")[-1], tuple(obj.shape), obj.tolist())
    if isinstance(obj, dict):
        return {k: _describe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_describe(v) for v in obj])
    return obj


Point = namedtuple("Point", "x y")
BATCHES = {
    "tensors": lambda lib: [lib.arange(6).reshape(2, 3) + i for i in range(4)],
    "arrays": lambda lib: [np.full((2,), i, dtype=np.float32) for i in range(3)],
    "numpy scalars": lambda lib: [np.int16(i) for i in range(3)],
    "floats": lambda lib: [0.5, 1.5],
    "ints": lambda lib: [1, 2, 3],
    "bools": lambda lib: [True, False],
    "strings": lambda lib: ["a", "b"],
    "tuples": lambda lib: [(lib.ones(2), 1, "x"), (lib.zeros(2), 2, "y")],
    "lists": lambda lib: [[1, 2.5], [3, 4.5]],
    "dicts": lambda lib: [{"img": np.zeros((2, 2), np.uint8), "label": 3},
                          {"img": np.ones((2, 2), np.uint8), "label": 4}],
    "namedtuples": lambda lib: [Point(1, 2.0), Point(3, 4.0)],
}


@pytest.mark.parametrize("kind", list(BATCHES))
def test_default_collate_matches_torch(kind):
    ours = default_collate(BATCHES[kind](tapegrad))
    theirs = torch.utils.data.default_collate(BATCHES[kind](torch))
    assert _describe(ours) == _describe(theirs)
    assert type(ours).__name__ == type(theirs).__name__


@pytest.mark.parametrize("batch,exc", [([[1, 2], [3]], RuntimeError), ([{1}], TypeError)])
def test_default_collate_errors_match_torch(batch, exc):
    with pytest.raises(exc) as ours:
        default_collate(batch)
    with pytest.raises(exc) as theirs:
        torch.utils.data.default_collate(batch)
    assert str(ours.value) == str(theirs.value)


def _dataset(n=10):
    x = tapegrad.arange(n * 3, dtype=tapegrad.float32).reshape(n, 3)
    y = tapegrad.arange(n)
    return TensorDataset(x, y)


def test_tensor_dataset_items_and_size_check():
    ds = _dataset()
    x, y = ds[4]
    assert len(ds) == 10 and x.tolist() == [12.0, 13.0, 14.0] and y.item() == 4
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(tapegrad.zeros(2), tapegrad.zeros(3))


@pytest.mark.parametrize("drop_last,sizes", [(False, [4, 4, 2]), (True, [4, 4])])
def test_dataloader_batches_in_order(drop_last, sizes):
    loader = DataLoader(_dataset(), batch_size=4, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes) == len(batches)
    assert [b[0].shape for b in batches] == [tapegrad.Size([s, 3]) for s in sizes]
    assert [b[1].tolist() for b in batches][0] == [0, 1, 2, 3]
    assert batches[0][1].dtype == tapegrad.int64 and batches[0][0].dtype == tapegrad.float32


def test_dataloader_shuffle_is_reproducible_with_a_seeded_generator():
    def epochs(seed):
        loader = DataLoader(_dataset(), batch_size=3, shuffle=True,
                            generator=tapegrad.Generator().manual_seed(seed))
        return [[i for _, y in loader for i in y.tolist()] for _ in range(2)]

    first, again, other = epochs(1), epochs(1), epochs(2)
    assert first == again
    assert first != other
    assert first[0] != first[1]  # a new order every epoch
    assert sorted(first[0]) == sorted(first[1]) == list(range(10))


def test_dataloader_shuffle_follows_the_global_seed():
    def order():
        tapegrad.manual_seed(7)
        return [y.item() for _, y in DataLoader(_dataset(), shuffle=True)]

    assert order() == order() and sorted(order()) == list(range(10))


def test_dataloader_without_batching_and_custom_collate():
    ds = _dataset(3)
    unbatched = list(DataLoader(ds, batch_size=None))
    assert [y.item() for _, y in unbatched] == [0, 1, 2]
    sizes = list(DataLoader(ds, batch_size=2, collate_fn=len))
    assert sizes == [2, 1]


def test_dataloader_over_a_plain_dataset_of_dicts():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.array([i, i * i], dtype=np.float64), "i": i}

    batch = next(iter(DataLoader(Squares(), batch_size=5)))
    assert batch["x"].dtype == tapegrad.float64 and batch["x"].shape == tapegrad.Size([5, 2])
    assert batch["i"].tolist() == [0, 1, 2, 3, 4]


def test_dataloader_argument_errors_match_torch():
    for kwargs in (dict(sampler=[0], shuffle=True), dict(batch_size=None, drop_last=True),
                   dict(batch_size=0)):
        with pytest.raises(ValueError) as ours:
            DataLoader(_dataset(), **kwargs)
        with pytest.raises(ValueError) as theirs:
            torch.utils.data.DataLoader(range(10), **kwargs)
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("lengths,sizes", [([3, 7], [3, 7]), ([0.3, 0.3, 0.4], [3, 3, 4]),
                                           ([0.5, 0.5], [6, 5])])
def test_random_split_sizes_match_torch_and_partition_the_data(lengths, sizes):
    data = list(range(sum(sizes)))
    parts = random_split(data, lengths, generator=tapegrad.Generator().manual_seed(0))
    assert [len(p) for p in parts] == sizes == [len(p) for p in torch.utils.data.random_split(
        data, lengths)]
    assert sorted(x for p in parts for x in p) == data
    again = random_split(data, lengths, generator=tapegrad.Generator().manual_seed(0))
    assert [p.indices for p in parts] == [p.indices for p in again]


def test_random_split_wrong_lengths_raise_torchs_error():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length"):
        random_split(range(5), [2, 2])


def test_subset_and_concat():
    ds = _dataset()
    sub = Subset(ds, [9, 2])
    assert len(sub) == 2 and sub[0][1].item() == 9
    both = sub + sub
    assert len(both) == 4 and both[3][1].item() == 2 and both[-4][1].item() == 9
