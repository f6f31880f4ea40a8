"""``python -m sensing.cli`` runs the command line, as ``sensing`` and ``python -m sensing`` do."""

import sys

from sensing.cli.app import main

sys.exit(main())
