"""Stand-in for ansible-test's get-pip bootstrap: ensurepip, then the requested pip from PyPI."""

import subprocess
import sys

packages = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", *packages])
