"""tapegrad.datasets: small data sets shipped inside the package (nothing is downloaded).

load_digits(): the UCI "Optical Recognition of Handwritten Digits" data set (1,797 8x8
images of digits 0-9, pixel values 0..16), by E. Alpaydin and C. Kaynak (1998), UCI Machine
Learning Repository, DOI 10.24432/C50P49, licensed CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/). The copy shipped here comes from
scikit-learn's distribution of it; see README.md next to this file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..tensor import Tensor

_DIGITS = Path(__file__).with_name("digits.npz")


def load_digits() -> tuple[Tensor, Tensor]:
    """Return (images, labels): uint8 images of shape (1797, 8, 8) with values 0..16, and
    int64 labels of shape (1797,) with values 0..9."""
    with np.load(_DIGITS, allow_pickle=False) as archive:
        images, labels = archive["images"], archive["labels"]
    return Tensor._make(images.copy()), Tensor._make(labels.astype(np.int64))


__all__ = ["load_digits"]
