"""torch.cuda as seen from a CPU-only build: no device is ever available."""

from __future__ import annotations

__all__ = ["is_available", "device_count", "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    """torch.cuda.is_available(): False, tapegrad computes on the CPU only."""
    return False


def device_count() -> int:
    """torch.cuda.device_count(): 0."""
    return 0


def manual_seed(seed: int) -> None:
    """torch.cuda.manual_seed(seed): nothing to seed without a device (as torch, silently)."""


def manual_seed_all(seed: int) -> None:
    """torch.cuda.manual_seed_all(seed): nothing to seed without a device."""
