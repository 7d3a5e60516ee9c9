import sys

from ipbook.cli import main

sys.exit(main())
