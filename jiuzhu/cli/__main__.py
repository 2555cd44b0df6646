"""`python -m jiuzhu.cli`, the same as the `jiuzhu` console script."""

import sys

from jiuzhu.cli import main

sys.exit(main())
