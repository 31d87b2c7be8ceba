"""A room agent installs ``.[edge]`` only: the agent's modules must not import cloud libraries."""
from __future__ import annotations

import subprocess
import sys

CLOUD_LIBRARIES = ("fastapi", "sqlalchemy", "influxdb_client")
EDGE_IMPORTS = (
    "import edge.agent, edge.cli, edge.sim_cli, edge.adapters, edge.mqtt, edge.outbox\n"
    "from etapalvelu.cli import cli\n"
    "cli.get_command(None, 'edge'); cli.get_command(None, 'sim')\n"
)


def cloud_modules_after(code: str) -> list[str]:
    """The cloud libraries loaded after running ``code`` in a fresh interpreter."""
    probe = f"import sys\n{code}print(','.join(m for m in {CLOUD_LIBRARIES!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return [m for m in result.stdout.strip().split(",") if m]


def test_edge_imports_none_of_the_cloud_libraries():
    assert cloud_modules_after(EDGE_IMPORTS) == []


def test_the_probe_sees_a_cloud_library_when_one_is_imported():
    assert cloud_modules_after(EDGE_IMPORTS + "import sqlalchemy\n") == ["sqlalchemy"]
