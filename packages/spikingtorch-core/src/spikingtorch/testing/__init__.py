"""The conformance kit: check that a neuron, surrogate, encoder, decoder or dataset follows the
spikingtorch contracts, from your plugin's own tests.

Each ``check_*`` function runs a component through every rule of its kind and returns None, or
raises :class:`ConformanceError` (an ``AssertionError``) at the first broken rule; ``err.rule``
is the rule's short identifier and ``str(err)`` says what the rule requires, what the kit
observed and how to fix it. The kit needs torch and the core only (``import spikingtorch`` does
not import it), and it leaves torch's global random state as it found it.

From pytest, one test per component is enough::

    import pytest
    from spikingtorch.testing import check_neuron, check_encoder

    from my_plugin import MyLIF, MyEncoder

    @pytest.mark.parametrize("factory", [MyLIF, lambda: MyLIF(tau=3.0, reset="subtract")])
    def test_my_neuron_conforms(factory):
        check_neuron(factory)

    def test_my_encoder_conforms():
        check_encoder(lambda: MyEncoder(8))

A factory is a zero-argument callable that returns a *fresh* component: the class, a
``functools.partial`` or a ``lambda`` with constructor arguments (a registered name such as
``"lif"`` works too). Keep shapes tiny: each check runs in well under a second on them.

Rules of :func:`check_neuron` ``(factory, *, input_shape=(3, 5), steps=6, dtypes=(float32,
float64), device=None, binary=True, input_scale=1.5)``, in the order they run; inputs
``x_t`` of shape ``input_shape = (N, *F)`` are uniform in ``[0, input_scale)``:

* ``factory``: the factory returns a new object on every call;
* ``is-neuron``: it is a :class:`spikingtorch.Neuron` (so a ``torch.nn.Module``);
* ``repr``: ``repr()`` works and names the class;
* ``init-state``: ``init_state(x_t)`` returns tensors with ``x_t``'s shape, dtype and device;
* ``output``: each step returns a tensor with ``x_t``'s shape, dtype and device;
* ``spikes``: the outputs are finite, in ``{0, 1}`` (``binary=False`` lifts this for graded
  neurons), and the neuron fires at least once on the test input;
* ``reset-on-init``: the same sequence, run again with ``init=True`` at ``t = 0`` after other
  sequences, gives the same spikes (no state kept across sequences);
* ``batch-size``: after a batch of ``N``, a batch of ``N + 1`` without ``init`` runs, has the
  right shape and equals a fresh start;
* ``reset-state``: after ``reset_state()``, ``state`` is None and a sequence without ``init``
  equals a fresh start;
* ``detach-state``: ``detach_state()`` keeps the state's values, cuts its autograd history, and
  back-propagating through later steps works (truncated BPTT);
* ``dtype``: every dtype in ``dtypes`` runs (the module converted with ``.to(dtype)``), and the
  spikes, the state and ``scan``'s output keep the input's dtype;
* ``device``: on CUDA (when available, besides ``device``) and on the ``meta`` device (a
  stand-in for an accelerator: a tensor created on the CPU by mistake shows up as a device
  mismatch; a neuron that reads values, which meta tensors do not have, is not run there),
  the spikes and the state live on the input's device;
* ``state-dict``: a fresh instance loaded with the ``state_dict`` of an instance whose floating
  parameters and buffers were changed gives the same spikes;
* ``scan``: ``scan(x_seq)`` over ``(T, N, *F)`` gives exactly the spikes of stepping
  ``forward`` (in float64 when it is in ``dtypes``), the same final state, close gradients for
  the input and every parameter, and ``scan(x[k:], state)`` continues ``scan(x[:k])``;
* ``sequence-mode``: ``SpikingNet(nn.Sequential(neuron), mode="sequence")`` gives the spikes of
  ``mode="step"`` (skipped for neurons that override ``forward``, which sequence mode refuses,
  and for ``input_shape = (N,)``: SpikingNet's input needs a feature axis);
* ``gradients``: back-propagating a weighted sum of the spikes of ``steps`` steps gives finite
  gradients to the input (not all zero) and to every parameter that requires grad (not None,
  not all zero);
* ``spikingnet``: a :class:`spikingtorch.SpikingNet` over ``nn.Sequential(neuron)`` and over a
  seed-style module whose ``forward(x, init)`` passes ``init`` on gives the same output for
  the same input on a later call, with another input in between (skipped for ``(N,)``);
* ``nir`` (not checked yet): the hook point for an NIR export/import round trip, which
  spikingtorch does not implement; it checks nothing until NIR support lands.

Rules of :func:`check_surrogate` ``(surrogate)`` (an instance, a class or a registered name):
``heaviside`` (the forward pass is ``H(x) = 1`` iff ``x > 0``, so ``H(0) = H(-0) = 0``, on
tiny and huge values), ``dtype`` (float32 and float64 spikes and gradients keep the input's
dtype), ``derivative`` (``derivative(x)``, or the autograd gradient if there is none, has
``x``'s shape and dtype, is finite, ``>= 0`` and not zero everywhere on ``[-5, 5]``),
``primitive`` (when it has one, central finite differences of ``primitive`` match
``derivative``), ``gradients`` (back-propagating ``grad_out`` gives
``grad_out * derivative(x)``) and ``repr``.

Rules of :func:`check_encoder` ``(factory, *, input_shape=(3, 4), output_shape=None,
values="binary", dtypes=..., device=None)``: ``factory``, ``is-module``, ``repr``, ``output``
(shape ``(N, steps, *F)`` for an input ``(N, *F)``, the channel axis kept; the input's shape
for encoders with ``time_from_input = True``; first two axes swapped when ``batch_first`` is
false; or ``output_shape``), ``values`` (``{0, 1}``; ``values="signed"`` allows ``-1``,
``values="analog"`` any finite value), ``dtype``, ``device``, ``determinism`` (two fresh
encoders under the same ``torch.manual_seed`` give the same train, and so do two encoders
given generators seeded alike when the encoder has a ``generator`` attribute), ``bad-input``
(a 0-dimensional input, and for ``time_from_input`` encoders one without a time axis, raises
ValueError or TypeError, not IndexError or a silent result) and ``nan-input`` (an input holding
NaN raises ValueError).

Rules of :func:`check_decoder` ``(factory, *, input_shape=(3, 6, 4), output_shape=None,
dtypes=..., device=None)``, fed random binary spikes ``(N, T, *out)``: ``factory``,
``is-module``, ``repr``, ``output`` (shape ``(N, *out)``, or ``output_shape``), ``dtype``,
``device``, ``determinism``, ``gradients`` (finite, not all zero, to the input) and
``bad-input`` (a rank-1 input and one with ``T = 0`` raise ValueError or TypeError).

Rules of :func:`check_dataset` ``(dataset)``: ``len``, ``getitem``, ``index-error`` and ``repr``
(see :func:`check_dataset`).

Example:
    >>> import torch
    >>> from spikingtorch import Neuron
    >>> from spikingtorch.surrogate import spike
    >>> class TinyIF(Neuron):
    ...     def init_state(self, x):
    ...         return (torch.zeros_like(x),)
    ...     def step(self, x, state):
    ...         v = state[0] + x
    ...         s = spike(v - 1.0)
    ...         return s, ((1 - s) * v,)
    >>> check_neuron(TinyIF)  # passes: returns None
    >>> check_surrogate("atan")
    >>> class Leaky(TinyIF):  # forgets to reset on init=True
    ...     def forward(self, x, init=False):
    ...         if self._state is None:
    ...             self._state = self.init_state(x)
    ...         s, self._state = self.step(x, self._state)
    ...         return s
    >>> try:
    ...     check_neuron(Leaky)
    ... except ConformanceError as err:
    ...     print(err.rule)
    reset-on-init
"""

from __future__ import annotations

from spikingtorch.testing._base import RULES, ConformanceError
from spikingtorch.testing._codec import check_decoder, check_encoder
from spikingtorch.testing._dataset import check_dataset
from spikingtorch.testing._neuron import check_neuron
from spikingtorch.testing._surrogate import check_surrogate

__all__ = [
    "RULES",
    "ConformanceError",
    "check_dataset",
    "check_decoder",
    "check_encoder",
    "check_neuron",
    "check_surrogate",
]
