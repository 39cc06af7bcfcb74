#!/usr/bin/python3
"""ec2emu.py - start the EC2 + IMDSv2 emulator (the package tests/ec2emu/).

The tests, the demo and the bench run this file; the code is in the
package beside it (see tests/ec2emu/__init__.py and tests/ec2emu.md).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ec2emu.main import main  # noqa: E402  (the package, not this file)

if __name__ == "__main__":
    sys.exit(main())
