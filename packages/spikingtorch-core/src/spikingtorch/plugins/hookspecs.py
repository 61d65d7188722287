"""Hook specifications: what a spikingtorch plugin may implement.

A plugin is a module (named by an entry point in the ``spikingtorch`` group) holding functions
marked with ``@spikingtorch.hookimpl`` whose names are the hooks below. Every hook receives a
:class:`~spikingtorch.registry.Registry` of one component kind and adds entries to it::

    from spikingtorch import hookimpl

    SPIKINGTORCH_PLUGIN_API = ">=1.0,<2"  # the plugin API versions this plugin supports

    @hookimpl
    def register_neurons(registry):
        registry.add("lif", "my_snn.neurons:LIF", summary="leaky integrate-and-fire")

The optional module attribute ``SPIKINGTORCH_PLUGIN_API`` declares which versions of the core's
plugin API (:data:`spikingtorch.plugins.PLUGIN_API_VERSION`, ``"MAJOR.MINOR"``) the plugin
supports; a plugin whose range excludes the core's version is listed as ``incompatible`` and
none of its hooks run (see :mod:`spikingtorch.plugins.api`). Without it the plugin counts as
compatible.

Rules common to all hooks:

* They are called lazily, the first time a registry of that kind is needed (a lookup such as
  ``spikingtorch.get_neuron("lif")``, ``from spikingtorch import LIF``, or
  ``spikingtorch list-plugins``), once per registry build, in plugin-name order.
* Each call is isolated: if it raises, the entries it added to that registry are removed, the
  plugin is reported with status ``error`` and every other plugin still registers.
* Prefer ``"module:attribute"`` strings as factories: they are imported only when the component
  is used, so listing plugins stays fast and does not import torch.
* Do not import heavy dependencies at the plugin module's import time, do not look components up
  from inside a hook, and do not give the ``registry`` parameter a default value (pluggy would not
  pass it).
"""

from __future__ import annotations

from spikingtorch.plugins.markers import hookspec
from spikingtorch.registry import Registry


@hookspec
def register_neurons(registry: Registry) -> None:
    """Add spiking neuron models (kind ``neurons``).

    A factory builds an ``nn.Module`` subclass of ``spikingtorch.Neuron`` from keyword
    parameters, e.g. ``LIF(tau=5.0, threshold=1.0)``.

    Args:
        registry: The neuron registry; call ``registry.add(name, factory, summary=...)``.
    """


@hookspec
def register_surrogates(registry: Registry) -> None:
    """Add surrogate-gradient spike functions (kind ``surrogates``).

    A factory builds a surrogate object from its parameters (e.g. a slope); neurons accept it
    as ``surrogate=`` or by its registered name.

    Args:
        registry: The surrogate registry; call ``registry.add(name, factory, summary=...)``.
    """


@hookspec
def register_encoders(registry: Registry) -> None:
    """Add spike encoders (kind ``encoders``).

    A factory builds an encoder that turns an ``(N, *features)`` tensor into an
    ``(N, T, *features)`` spike train; its first parameter is the number of steps ``T``.

    Args:
        registry: The encoder registry; call ``registry.add(name, factory, summary=...)``.
    """


@hookspec
def register_decoders(registry: Registry) -> None:
    """Add decoders / readouts (kind ``decoders``).

    A factory builds a decoder that turns network output ``(N, T, *out)`` into predictions.

    Args:
        registry: The decoder registry; call ``registry.add(name, factory, summary=...)``.
    """


@hookspec
def register_datasets(registry: Registry) -> None:
    """Add datasets (kind ``datasets``).

    A factory has a torchvision-shaped signature (``root``, ``train``, ``transform``,
    ``target_transform``, ``download=False``) and must never download unless asked to.

    Args:
        registry: The dataset registry; call ``registry.add(name, factory, summary=...)``.
    """


@hookspec
def register_networks(registry: Registry) -> None:
    """Add network architectures (kind ``networks``).

    A factory builds a neuron-agnostic network (an ``nn.Module``) from keyword parameters such
    as input/output shapes and the neuron to use.

    Args:
        registry: The network registry; call ``registry.add(name, factory, summary=...)``.
    """
