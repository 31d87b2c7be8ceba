"""The cloud's processes as production starts them: the command of each generated systemd
unit, run with the generated environment files, stopped with SIGTERM as systemd stops them."""
from __future__ import annotations

import os
import re
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of an ``EnvironmentFile`` (comments and blank lines skipped)."""
    env = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value
    return env


@dataclass(frozen=True)
class Unit:
    """What systemd would run for one unit instance: its command and environment files."""

    name: str
    command: list[str]
    env_files: list[Path] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        """This process's PATH and PYTHONPATH (no ``ETP_*``), then the unit's env files."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETP_")}
        for path in self.env_files:
            env.update(read_env_file(path))
        return env


def unit_instance(unit_dir: Path, name: str) -> Unit:
    """``ExecStart`` and ``EnvironmentFile``s of a generated unit: ``etapalvelu-engine`` or an
    instance of a template, ``etapalvelu-ingest@1`` (``%i`` is the instance)."""
    template, _, instance = name.partition("@")
    file = f"{template}@.service" if instance else f"{name}.service"
    text = (unit_dir / file).read_text().replace("%i", instance)
    command = re.search(r"^ExecStart=(.+)$", text, re.MULTILINE).group(1).split()
    env_files = [Path(p) for p in re.findall(r"^EnvironmentFile=(.+)$", text, re.MULTILINE)]
    return Unit(name, command, env_files)


@dataclass
class Processes:
    """Started unit processes; ``stop_all`` sends SIGTERM and returns each exit status."""

    log_dir: Path
    running: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, unit: Unit, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start ``unit`` with its environment (and ``extra_env``), logging to a file."""
        env = {**unit.environment(), **(extra_env or {})}
        log = open(self.log_dir / f"{unit.name}.log", "ab")  # noqa: SIM115 - closed with it
        process = subprocess.Popen(unit.command, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.running[unit.name] = process
        return process

    def stop(self, name: str, timeout: float = 40) -> int:
        """SIGTERM, as ``systemctl stop`` sends it; the exit status."""
        process = self.running.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
            return -9

    def stop_all(self) -> dict[str, int]:
        """Stop every process, the last started first."""
        return {name: self.stop(name) for name in reversed(list(self.running))}

    def log(self, name: str) -> str:
        """What a process wrote so far."""
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def assert_running(self) -> None:
        """Fail with the logs of any process that has exited."""
        dead = {n: p.returncode for n, p in self.running.items() if p.poll() is not None}
        assert not dead, "\n".join(f"{n} exited {rc}:\n{self.log(n)[-2000:]}"
                                   for n, rc in dead.items())
