"""python3 -m ec2emu (from tests/): the same as tests/ec2emu.py."""

import sys

from .main import main

sys.exit(main())
