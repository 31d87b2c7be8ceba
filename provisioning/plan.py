"""What a build would change in the fleet folder, told without a single secret.

Credentials appear by identity name, ACL rules as readable lines, inventory entries by host,
agent configs by path; everything else as the list of files that would change.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import yaml

from provisioning.broker import acl_lines
from provisioning.generate import DYNSEC, INVENTORY, FileSpec


@dataclass
class Plan:
    """The changes, each as sorted names or lines."""

    credentials_added: list[str] = field(default_factory=list)
    credentials_removed: list[str] = field(default_factory=list)
    credentials_changed: list[str] = field(default_factory=list)
    acl_added: list[str] = field(default_factory=list)
    acl_removed: list[str] = field(default_factory=list)
    inventory_added: list[str] = field(default_factory=list)
    inventory_removed: list[str] = field(default_factory=list)
    inventory_changed: list[str] = field(default_factory=list)
    configs_added: list[str] = field(default_factory=list)
    configs_removed: list[str] = field(default_factory=list)
    configs_changed: list[str] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether nothing would change."""
        return not self.files_changed

    def lines(self) -> list[str]:
        """The plan as text lines (``+`` added, ``-`` removed, ``~`` changed)."""
        sections = [
            ("credentials", self.credentials_added, self.credentials_removed,
             self.credentials_changed),
            ("acl", self.acl_added, self.acl_removed, []),
            ("inventory", self.inventory_added, self.inventory_removed, self.inventory_changed),
            ("configs", self.configs_added, self.configs_removed, self.configs_changed),
        ]
        out = []
        for title, added, removed, changed in sections:
            if added or removed or changed:
                out.append(f"{title}:")
                out += [f"  + {x}" for x in added] + [f"  - {x}" for x in removed]
                out += [f"  ~ {x}" for x in changed]
        out.append(f"files: {len(self.files_changed)} would change")
        out += [f"  {path}" for path in self.files_changed]
        return out


def _diff(old: set, new: set) -> tuple[list, list]:
    return sorted(new - old), sorted(old - new)


def _hosts(spec: FileSpec | None) -> dict[str, dict]:
    """Every host of an inventory with its variables."""
    if spec is None:
        return {}
    found: dict[str, dict] = {}

    def walk(group: dict) -> None:
        for host, variables in (group.get("hosts") or {}).items():
            found[host] = variables or {}
        for child in (group.get("children") or {}).values():
            walk(child or {})

    walk((yaml.safe_load(spec.data) or {}).get("all", {}))
    return found


def _acl(spec: FileSpec | None) -> set[str]:
    return acl_lines(json.loads(spec.data)) if spec else set()


def _names(files: dict[str, FileSpec]) -> dict[str, bytes]:
    """identity -> its password and certificate bytes (compared, never shown)."""
    names: dict[str, bytes] = {}
    for relpath, spec in files.items():
        if relpath.startswith("secrets/") and relpath.endswith(".password"):
            name = relpath.removeprefix("secrets/").removesuffix(".password")
            cert = files.get(f"pki/certs/{name}.crt")
            names[name] = spec.data + (cert.data if cert else b"")
    return names


def make_plan(current: dict[str, FileSpec], wanted: dict[str, FileSpec]) -> Plan:
    """Compare the folder's files with the wanted ones."""
    plan = Plan()
    plan.files_changed = sorted(
        p for p in set(current) | set(wanted)
        if p not in current or p not in wanted
        or (current[p].data, current[p].mode) != (wanted[p].data, wanted[p].mode))
    old, new = _names(current), _names(wanted)
    plan.credentials_added, plan.credentials_removed = _diff(set(old), set(new))
    plan.credentials_changed = sorted(n for n in set(old) & set(new) if old[n] != new[n])
    plan.acl_added, plan.acl_removed = _diff(_acl(current.get(DYNSEC)), _acl(wanted.get(DYNSEC)))
    old_hosts, new_hosts = _hosts(current.get(INVENTORY)), _hosts(wanted.get(INVENTORY))
    plan.inventory_added, plan.inventory_removed = _diff(set(old_hosts), set(new_hosts))
    plan.inventory_changed = sorted(h for h in set(old_hosts) & set(new_hosts)
                                    if old_hosts[h] != new_hosts[h])
    old_cfg = {p for p in current if p.startswith("agents/")}
    new_cfg = {p for p in wanted if p.startswith("agents/")}
    plan.configs_added, plan.configs_removed = _diff(old_cfg, new_cfg)
    plan.configs_changed = sorted(p for p in old_cfg & new_cfg
                                  if current[p].data != wanted[p].data)
    return plan
