"""Accounts learns the valid support parties from whoever calls it (the app, the cloud's
command), so no part of it loads the incidents domain."""
from __future__ import annotations

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import cloud.accounts
for module in pkgutil.walk_packages(cloud.accounts.__path__, "cloud.accounts."):
    if ".migrations" not in module.name:
        importlib.import_module(module.name)
print(sorted(name for name in sys.modules if name.startswith("cloud.incidents")))
"""


def test_no_module_of_accounts_loads_the_incidents_domain():
    answer = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                            timeout=120, check=True)
    assert answer.stdout.strip() == "[]"
