import sys

from stratus_tui.cli import main

sys.exit(main())
