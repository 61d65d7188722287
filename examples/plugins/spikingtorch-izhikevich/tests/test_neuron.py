"""The Izhikevich module: presets and overrides, the seed contract, lookup through spikingtorch."""

from __future__ import annotations

import pytest
import spikingtorch
import torch
from spikingtorch import SpikingNet
from torch import nn

from spikingtorch_izhikevich import Izhikevich
from spikingtorch_izhikevich.functional import PRESETS, IzhikevichState, izhikevich_step


def _count(neuron: nn.Module, current: float, steps: int = 200) -> int:
    x = torch.full((1, 1), current)
    return int(sum(neuron(x, init=(t == 0)).item() for t in range(steps)))


def test_preset_and_overrides() -> None:
    default = Izhikevich()
    assert (default.a, default.b, default.c, default.d) == (0.02, 0.2, -65.0, 8.0)
    fs = Izhikevich(preset="fs", d=3.0)
    assert (fs.a, fs.b, fs.c, fs.d) == (0.1, 0.2, -65.0, 3.0)
    assert repr(fs) == (
        "Izhikevich(preset='fs', a=0.1, b=0.2, c=-65, d=3, dt=1, surrogate=ATan(alpha=2.0))"
    )
    explicit = Izhikevich(a=0.02, b=0.2, c=-50.0, d=2.0)  # chattering by hand
    assert _count(explicit, 10.0) == _count(Izhikevich("chattering"), 10.0)


def test_module_matches_the_step_function() -> None:
    torch.manual_seed(0)
    x = 8.0 + 4.0 * torch.randn(6, 2, 3)  # (T, N, F)
    neuron = Izhikevich("intrinsically_bursting", dt=0.5)
    p = PRESETS["intrinsically_bursting"]
    state = IzhikevichState.resting(x[0], b=p.b)
    for t in range(6):
        s, state = izhikevich_step(x[t], state, a=p.a, b=p.b, c=p.c, d=p.d, dt=0.5)
        assert torch.equal(neuron(x[t], init=(t == 0)), s)
    assert torch.equal(neuron.state.v, state.v)


def test_per_neuron_parameters_and_spikingnet() -> None:
    d = torch.tensor([8.0, 2.0])
    neuron = Izhikevich(d=d, input_scale=torch.tensor([1.0, 1.0]))
    assert "d" in dict(neuron.named_buffers())
    model = SpikingNet(nn.Sequential(nn.Identity(), neuron), (2,))
    out = model(torch.full((3, 100, 2), 10.0))  # (N, T, F)
    assert out.shape == (3, 100, 2)
    counts = out.sum(1)
    assert (counts[:, 1] > counts[:, 0]).all()  # the smaller d adapts less and fires more
    with pytest.raises(ValueError, match=r"d of shape \(2,\) does not broadcast"):
        neuron(torch.zeros(1, 3), init=True)


def test_input_scale_makes_weak_inputs_fire() -> None:
    assert _count(Izhikevich(), 0.5) == 0
    assert _count(Izhikevich(input_scale=20.0), 0.5) > 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"preset": "regular"}, ValueError, "unknown Izhikevich preset 'regular'"),
        ({"dt": 0.0}, ValueError, "dt must be positive"),
        ({"surrogate_scale": -1.0}, ValueError, "surrogate_scale must be positive"),
        ({"a": float("nan")}, ValueError, "a must be finite"),
        ({"c": "low"}, TypeError, "c must be a number or a tensor"),
        ({"surrogate": "no_such_surrogate"}, ValueError, "unknown surrogate"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Izhikevich(**kwargs)  # type: ignore[arg-type]


def test_integer_input_is_refused() -> None:
    with pytest.raises(TypeError, match="floating-point input"):
        Izhikevich()(torch.ones(2, 3, dtype=torch.long))


def test_found_through_spikingtorch() -> None:
    neuron = spikingtorch.get_neuron("izhikevich", preset="chattering")
    assert isinstance(neuron, Izhikevich)
    qualified = spikingtorch.get("neurons", "spikingtorch-izhikevich:izhikevich")
    assert isinstance(qualified, Izhikevich)
    from spikingtorch import Izhikevich as exported

    assert exported is Izhikevich
    record = next(r for r in spikingtorch.plugin_records() if r.name == "spikingtorch-izhikevich")
    assert record.status in ("ok", "local")
    assert record.provides["neurons"] == ["izhikevich"]
    assert record.provides["surrogates"] == ["gaussian"]


def test_gaussian_surrogate_by_name() -> None:
    neuron = Izhikevich(surrogate="gaussian", surrogate_scale=20.0)
    assert repr(neuron.surrogate) == "Gaussian(sigma=0.5)"


def test_hook_module_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, spikingtorch_izhikevich.plugin as p; "
        "print(p.SPIKINGTORCH_PLUGIN_API, 'torch' in sys.modules)"
    )
    env_path = [p for p in sys.path if p]
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PYTHONPATH": ":".join(env_path)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [">=1.0,<2", "False"]
