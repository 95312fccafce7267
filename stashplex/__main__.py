import sys

from stashplex.cli import main

sys.exit(main())
