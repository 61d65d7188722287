"""Shared helpers for the neuron tests: an independent numpy reference of the IF/LIF dynamics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

Reference = Callable[..., tuple[np.ndarray, np.ndarray]]


def reference(
    x: np.ndarray,
    *,
    decay: Any = 1.0,
    scale: Any = 1.0,
    threshold: Any = 1.0,
    reset: str = "zero",
) -> tuple[np.ndarray, np.ndarray]:
    """Membrane (pre-reset) and spike trajectories for time-first inputs ``x`` of shape (T, ...).

    v_t = decay * r(v_{t-1}, s_{t-1}) + scale * x_t, s_t = [v_t > threshold]; r per ``reset``.
    """
    x = np.asarray(x, dtype=np.float64)
    v = np.zeros(x.shape[1:])
    s = np.zeros(x.shape[1:])
    vs, ss = [], []
    for xt in x:
        if reset == "zero":
            r = np.where(s > 0, 0.0, v)
        elif reset == "subtract":
            r = np.where(s > 0, v - threshold, v)
        elif reset == "none":
            r = v
        else:
            raise AssertionError(reset)
        v = decay * r + scale * xt
        s = np.where(v > threshold, 1.0, 0.0)
        vs.append(v)
        ss.append(s)
    return np.stack(vs), np.stack(ss)


@pytest.fixture
def ref() -> Reference:
    return reference


def run(neuron: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Feed time-first ``x`` (T, N, ...) step by step (init at t=0); stack spikes and membranes."""
    spikes, membranes = [], []
    for t, x_t in enumerate(x.unbind(0)):
        spikes.append(neuron(x_t, init=(t == 0)))
        membranes.append(neuron.state.v)
    return torch.stack(spikes), torch.stack(membranes)


@pytest.fixture
def run_neuron() -> Callable[[torch.nn.Module, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    return run
