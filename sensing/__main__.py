"""``python -m sensing`` runs the command line."""

import sys

from sensing.cli.main import main

sys.exit(main())
