"""Argument checks shared by the optimizers, with torch's messages."""

from __future__ import annotations

_LABELS = {"lr": "learning rate", "eps": "epsilon value", "momentum": "momentum value",
           "weight_decay": "weight_decay value", "alpha": "alpha value",
           "lr_decay": "lr_decay value",
           "initial_accumulator_value": "initial_accumulator_value value"}


def check_non_negative(**values: float) -> None:
    """Raise torch's 'Invalid <name>: <value>' ValueError for a negative option."""
    for name, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_LABELS[name]}: {value}")


def check_betas(betas: tuple[float, float]) -> None:
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")
