"""Shared references for the kernel tests (native CPU and Triton): the IF/LIF recurrence by the
step functions, and a surrogate the kernels do not know."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from spikingtorch.surrogate import SurrogateFunction
from spikingtorch_neurons.functional import LIFState, if_step, lif_step


class Shifted(SurrogateFunction):
    """A surrogate the kernels do not know: its derivative is passed in, computed by torch."""

    params = ()

    def _derivative(self, x: Tensor) -> Tensor:
        return 0.5 / (1 + (2 * x).square()) + 0.1 * torch.sigmoid(x)


def step_reference(
    x: Tensor, v0: Tensor, s0: Tensor, decay: float | None, **kw: Any
) -> tuple[Tensor, Tensor]:
    """Spikes and last membrane by the step functions (IF when ``decay`` is None)."""
    state: Any = LIFState(v0, s0)
    out = []
    for x_t in x.unbind(0):
        if decay is None:
            s, state = if_step(x_t, state, **kw)
        else:
            s, state = lif_step(x_t, state, decay=decay, **kw)
        out.append(s)
    return torch.stack(out), state.v
