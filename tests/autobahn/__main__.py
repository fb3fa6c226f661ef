import sys

from tests.autobahn.runner import main

sys.exit(main())
