"""The original ``spikingtorch.spikeio`` spellings: they work, warn, and match the new classes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import spikingtorch_encoders as enc
from spikingtorch import spikeio

NEW = "use spikingtorch_encoders"


def test_poisson_encoder_matches_the_new_class_with_the_same_seed() -> None:
    x = torch.rand(3, 2, 5, 5, generator=torch.Generator().manual_seed(0))  # (N, C, H, W)
    with pytest.warns(
        DeprecationWarning,
        match=r"spikeio\.PoissonEncoder\(nsteps, scale\) is deprecated; "
        r"use spikingtorch_encoders\.PoissonEncoder\(steps, rate=scale, max_rate=1\.0\)",
    ) as record:
        old = spikeio.PoissonEncoder(8, 0.7, generator=torch.Generator().manual_seed(3))
    assert record[0].filename == __file__  # the warning points at the caller
    assert isinstance(old, enc.PoissonEncoder)
    new = enc.PoissonEncoder(8, rate=0.7, max_rate=1.0, generator=torch.Generator().manual_seed(3))
    spikes = old(x)
    assert spikes.shape == (3, 8, 2, 5, 5)  # the new layout: time is its own axis
    assert torch.equal(spikes, new(x))

    # the global generator too, and positional nsteps/scale as in the original
    with pytest.warns(DeprecationWarning, match=NEW):
        old = spikeio.PoissonEncoder(nsteps=4, scale=0.5)
    torch.manual_seed(11)
    a = old(x)
    torch.manual_seed(11)
    assert torch.equal(a, enc.PoissonEncoder(4, rate=0.5, max_rate=1.0)(x))


def test_poisson_encoder_keeps_the_original_tolerance_of_large_inputs() -> None:
    """The original fired at every step where scale * x >= 1; the compat one still does."""
    with pytest.warns(DeprecationWarning, match=NEW):
        encoder = spikeio.PoissonEncoder(5, 2.0)
    out = encoder(torch.tensor([[0.6, 0.0, 1.0]]))
    assert torch.equal(out[0, :, 0], torch.ones(5)) and torch.equal(out[0, :, 2], torch.ones(5))
    assert out[0, :, 1].sum() == 0


def _original_periodic(x: torch.Tensor, nsteps: int, scale: float) -> torch.Tensor:
    """The original algorithm (accumulate, fire at >= 1, reset to zero), stacked on a new axis 1."""
    memory = torch.zeros_like(x)
    out = []
    for _ in range(nsteps):
        memory = memory + scale * x
        fired = (memory >= 1).to(x.dtype)
        memory = memory * (1 - fired)
        out.append(fired)
    return torch.stack(out, 1)


def test_periodic_encoder_matches_the_new_class_and_the_original_for_1_over_k() -> None:
    x = torch.tensor([[1.0, 0.5, 0.25, 0.0], [0.2, 1.0, 0.125, 0.5]])
    with pytest.warns(
        DeprecationWarning,
        match=r"spikeio\.PeriodicEncoder\(nsteps, scale\) is deprecated; "
        r"use spikingtorch_encoders\.PeriodicEncoder\(steps, rate=scale, max_rate=1\.0\)",
    ):
        old = spikeio.PeriodicEncoder(8, 1.0)
    assert isinstance(old, enc.PeriodicEncoder)
    out = old(x)
    assert torch.equal(out, enc.PeriodicEncoder(8, rate=1.0, max_rate=1.0)(x))
    # rates 1/k: identical to the original's reset-to-zero algorithm
    assert torch.equal(out, _original_periodic(x, 8, 1.0))


def test_constant_encoder() -> None:
    x = torch.rand(2, 1, 4, 4)  # (N, C=1, H, W): the original needed a size-1 dimension 1
    with pytest.warns(
        DeprecationWarning,
        match=r"spikeio\.ConstantEncoder\(nsteps\) is deprecated; "
        r"use spikingtorch_encoders\.ConstantEncoder\(steps\).*new axis 1",
    ):
        old = spikeio.ConstantEncoder(6)
    assert isinstance(old, enc.ConstantEncoder)
    out = old(x)
    assert out.shape == (2, 6, 1, 4, 4)
    assert torch.equal(out, enc.ConstantEncoder(6)(x))
    assert torch.equal(out, x.unsqueeze(1).expand(2, 6, 1, 4, 4))


def test_sum_decoder_with_and_without_offset() -> None:
    s = (torch.rand(4, 8, 10) < 0.4).float()
    with pytest.warns(
        DeprecationWarning,
        match=r"spikeio\.SumDecoder\(nsteps, scale, offset=True\) is deprecated; "
        r"use spikingtorch_encoders\.SumDecoder\(scale=scale, offset=0\.5 \* nsteps\) "
        r"\(or from spikingtorch import SumDecoder\)",
    ):
        old = spikeio.SumDecoder(8, 0.25)
    assert isinstance(old, enc.SumDecoder)
    assert torch.equal(old(s), enc.SumDecoder(scale=0.25, offset=4.0)(s))
    assert torch.allclose(old(s), 0.25 * (s.sum(dim=1) - 0.5 * 8))  # the original's formula

    with pytest.warns(DeprecationWarning, match=r"use spikingtorch_encoders\.SumDecoder\(scale"):
        old = spikeio.SumDecoder(8, 0.25, offset=False)
    assert torch.equal(old(s), enc.SumDecoder(scale=0.25)(s))
    assert torch.allclose(old(s), 0.25 * s.sum(dim=1))


def test_rate_decoder() -> None:
    s = (torch.rand(4, 8, 10) < 0.4).float()
    with pytest.warns(
        DeprecationWarning,
        match=r"spikeio\.RateDecoder\(\) is deprecated; use spikingtorch_encoders\.RateDecoder\(\)",
    ):
        old = spikeio.RateDecoder()
    assert isinstance(old, enc.RateDecoder)
    assert torch.equal(old(s), enc.RateDecoder()(s))
    assert torch.allclose(old(s), s.mean(dim=1))


def test_missing_plugin_is_an_import_error_that_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "spikingtorch_encoders", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install spikingtorch-encoders"):
        spikeio.PoissonEncoder(8)
    with pytest.raises(ImportError, match=r"spikeio\.SumDecoder now lives in"):
        spikeio.SumDecoder(8, 1.0)


def test_importing_spikeio_does_not_import_the_plugin() -> None:
    code = (
        "import sys; from spikingtorch.spikeio import PoissonEncoder, SumDecoder; "
        "print('spikingtorch_encoders' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
