"""``python -m greenflops``: the command line (``scripts/`` on the path, e.g.
``PYTHONPATH=scripts python -m greenflops cost torchvision:resnet50 --input 1,3,224,224
--device-id cpu-amd-epyc-1thread``). Subcommands: ``cost`` (greenflops.networks.report)."""

import sys

from greenflops.networks.report import main

if __name__ == "__main__":
    sys.exit(main())
