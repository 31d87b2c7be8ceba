"""Running the playbooks through ansible-runner, reporting progress per host.

The runner's private folder is temporary and removed afterwards: every task that touches a
secret has ``no_log``, and nothing the runner records outlives the run.
"""
from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ansible_runner

ANSIBLE_DIR = Path(__file__).resolve().parent.parent / "ansible"
log = logging.getLogger("etapalvelu.fleet")
_REPORTED = {"runner_on_ok": "ok", "runner_on_failed": "failed",
             "runner_on_unreachable": "unreachable", "runner_on_skipped": "skipped"}


@dataclass
class RunResult:
    """How a playbook run ended: per host, tasks changed, failed, unreachable."""

    status: str
    rc: int
    changed: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    unreachable: dict[str, int] = field(default_factory=dict)
    tail: str = field(default="", repr=False)  # end of the output, for a failed run

    @property
    def ok(self) -> bool:
        """Whether every host finished without failure."""
        return self.rc == 0 and not any(self.failed.values()) and not any(
            self.unreachable.values())


Progress = Callable[[str, str, str, bool], None]  # host, task, outcome, changed


def _event_handler(progress: Progress | None):
    def handle(event: dict) -> bool:
        outcome = _REPORTED.get(event.get("event", ""))
        if outcome and progress is not None:
            data = event.get("event_data", {})
            changed = bool((data.get("res") or {}).get("changed"))
            progress(data.get("host", "?"), data.get("task", "?"), outcome, changed)
        return event.get("event") == "playbook_on_stats"  # the stats; no other event kept

    return handle


def run_playbook(playbook: str, fleet_dir: Path, *, limit: str | None = None,
                 extravars: dict | None = None, progress: Progress | None = None,
                 inventory: Path | None = None, tags: str | None = None) -> RunResult:
    """Run ``ansible/<playbook>`` against the fleet's inventory and return the stats."""
    fleet_dir = Path(fleet_dir).resolve()
    variables = {"etp_fleet_dir": str(fleet_dir), **(extravars or {})}
    bindir = str(Path(sys.executable).parent)  # the ansible of this environment
    with tempfile.TemporaryDirectory(prefix="etp-runner-") as private:
        runner = ansible_runner.run(
            private_data_dir=private, project_dir=str(ANSIBLE_DIR), playbook=playbook,
            inventory=str(inventory or fleet_dir / "inventory" / "hosts.yml"),
            extravars=variables, limit=limit, tags=tags, quiet=True,
            event_handler=_event_handler(progress),
            envvars={"ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                     "PATH": os.pathsep.join([bindir, os.environ.get("PATH", "")])})
        stats = runner.stats or {}
        tail = runner.stdout.read()[-3000:] if runner.rc else ""
    result = RunResult(runner.status, runner.rc, dict(stats.get("changed", {})),
                       dict(stats.get("failures", {})), dict(stats.get("dark", {})), tail)
    log.info("playbook=%s status=%s rc=%s changed=%s failed=%s", playbook, result.status,
             result.rc, sum(result.changed.values()), sum(result.failed.values()))
    return result
