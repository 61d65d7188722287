"""``python -m spikingtorch``: the same as the ``spikingtorch`` command."""

from __future__ import annotations

from spikingtorch.cli import main

if __name__ == "__main__":
    main()
