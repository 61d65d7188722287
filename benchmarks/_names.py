"""Framework ids, shared by the coordinator (standard library only) and the workers."""

from __future__ import annotations

__all__ = ["ALIASES", "ANN", "DEFAULT_FRAMEWORKS", "FRAMEWORKS", "PEERS", "REFERENCE_ORDER"]

#: Every framework id, in report order. ``st_seq:LABEL`` names an st_seq variant.
FRAMEWORKS = (
    "ann",
    "ann_steps",
    "st_step",
    "st_seq",
    "snntorch",
    "norse",
    "norse_seq",
    "spikingjelly",
    "spikingjelly_s",
)
#: What runs without ``--frameworks``.
DEFAULT_FRAMEWORKS = ("ann", "ann_steps", "st_step", "st_seq", "snntorch", "norse", "spikingjelly")
#: The two dense-layout references; the ANN limit of a round is the faster of the two.
ANN = ("ann", "ann_steps")
#: The other libraries (for the "x fastest peer" column).
PEERS = ("snntorch", "norse", "norse_seq", "spikingjelly", "spikingjelly_s")
#: The ids used in ``shared/reference/peer-benchmarks.md``.
ALIASES = {"norse_cell": "norse", "sj_m": "spikingjelly", "sj_s": "spikingjelly_s"}
#: Frameworks whose probe can be the forward-check reference, in order of preference.
REFERENCE_ORDER = ("st_step", "st_seq", "snntorch", "norse", "spikingjelly")
