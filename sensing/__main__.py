"""``python -m sensing`` runs the command line."""

import sys

from sensing.cli import main

sys.exit(main())
