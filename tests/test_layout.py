"""The arrows between the cloud's packages (docs/decisions.md, "Cross-domain journeys"): a domain
owns its tables, so no domain imports another domain's ``models``; journeys live in
``cloud/flows/``, which imports the domains, so a domain imports flows only from its
``views.py`` and ``pages.py`` (a request may start a journey); ``cloud/web/`` assembles the app
from the domains, so no domain imports it, but for its pages' one templating module.
Everything else a domain may import: another domain's service functions and package API,
``cloud.db``, ``cloud.settings``, ``cloud.registry``, ``cloud.instants``, ``cloud.texts``,
``cloud.api``, ``protocol``. Imports are read with ``ast``, also those inside
functions, so a deferred import does not hide an arrow."""
from __future__ import annotations

import ast
from pathlib import Path

CLOUD = Path(__file__).resolve().parent.parent / "cloud"
# packages of cloud/ that are not domains: the layers above and below them
LAYERS = {"api", "flows", "web", "migrations"}
NAMED_DOMAINS = {"accounts", "bookings", "incidents", "ingest", "notify", "sites", "twin",
                 "telemetry", "registry"}
# (file relative to cloud/, imported module) -> why it stays for now; empty: none left
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def domains() -> set[str]:
    """Every package of cloud/ that is not a layer: a new domain is checked without a change
    here."""
    return {p.name for p in CLOUD.iterdir()
            if (p / "__init__.py").is_file() and p.name not in LAYERS}


def imported_modules(source: str, module: str) -> set[str]:
    """Every module a source imports, anywhere in it, as absolute dotted names; for ``from a
    import b`` both ``a`` and ``a.b`` (``b`` may be a module). ``module`` is the source's own
    dotted name, for relative imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[:-node.level]
                base = ".".join([*package, *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def violation(domain: str, file_name: str, imported: str, all_domains: set[str]) -> str | None:
    """Why importing ``imported`` from ``file_name`` of ``domain`` points the wrong way."""
    parts = imported.split(".")
    if parts[0] != "cloud" or len(parts) < 2:
        return None
    if parts[1] == "web" and not (file_name == "pages.py" and parts[2:3] == ["templating"]):
        return "a domain imports the web app, which imports the domains"
    if parts[1] == "flows" and file_name not in ("views.py", "pages.py"):
        return "only a domain's views may start a journey"
    if (parts[1] in all_domains and parts[1] != domain and len(parts) > 2
            and parts[2] == "models"):
        return f"reads {parts[1]}'s tables instead of its service functions"
    return None


def violations(all_domains: set[str]) -> dict[tuple[str, str], str]:
    """Every wrong arrow of the domain packages: (file, module) -> why."""
    found = {}
    for domain in sorted(all_domains):
        for path in sorted((CLOUD / domain).rglob("*.py")):
            relative = path.relative_to(CLOUD.parent)
            module = ".".join(relative.with_suffix("").parts)
            for imported in imported_modules(path.read_text(encoding="utf-8"), module):
                reason = violation(domain, path.name, imported, all_domains)
                if reason:
                    found[(str(path.relative_to(CLOUD)), imported)] = reason
    return found


def test_every_named_domain_is_a_package_the_check_reads():
    assert NAMED_DOMAINS <= domains()


def test_no_domain_reads_another_domains_tables_imports_flows_outside_views_or_the_web_app():
    found = violations(domains())
    unexpected = {k: v for k, v in found.items() if k not in KNOWN_EXCEPTIONS}
    assert unexpected == {}
    assert set(KNOWN_EXCEPTIONS) <= set(found), "a known exception is fixed: drop it from the list"


def test_the_check_sees_imports_inside_functions_relative_ones_and_modules_imported_by_name():
    source = '''
from cloud.twin import service
from cloud.db import Instant

def later():
    from cloud.twin.models import Transition
    import cloud.web.app
    from ..flows import readiness
    from cloud import notify, web
'''
    imported = imported_modules(source, "cloud.incidents.engine")
    wrong = {name for name in imported
             if violation("incidents", "engine.py", name, {"incidents", "twin", "notify"})}
    assert wrong == {"cloud.twin.models", "cloud.twin.models.Transition", "cloud.web",
                     "cloud.web.app", "cloud.flows", "cloud.flows.readiness"}


def test_a_view_may_start_a_journey_and_a_domain_may_read_its_own_tables():
    assert violation("bookings", "views.py", "cloud.flows.purge", {"bookings"}) is None
    assert violation("bookings", "service.py", "cloud.bookings.models", {"bookings"}) is None
    assert violation("bookings", "service.py", "cloud.sites.service", {"bookings", "sites"}) is None


def test_a_page_may_start_a_journey_and_render_but_not_import_the_app():
    assert violation("incidents", "pages.py", "cloud.flows.incidents", {"incidents"}) is None
    assert violation("incidents", "pages.py", "cloud.web.templating.render", {"incidents"}) is None
    assert violation("incidents", "pages.py", "cloud.web.app", {"incidents"}) is not None
    assert violation("incidents", "service.py", "cloud.web.templating", {"incidents"}) is not None


# what of notify a domain may import: its message templates' registration, nothing that writes
NOTIFY_FOR_DOMAINS = {"cloud.notify", "cloud.notify.Text", "cloud.notify.register"}


def test_only_the_flows_queue_messages_of_another_domain():
    """A message about an incident or a booking is a journey to notify (``flows/
    incident_notifications.py``, ``flows/reminders.py``), so no other domain writes or reads
    the outbox itself."""
    found = set()
    for domain in sorted(domains() - {"notify"}):
        for path in sorted((CLOUD / domain).rglob("*.py")):
            module = ".".join(path.relative_to(CLOUD.parent).with_suffix("").parts)
            found |= {(module, name) for name in imported_modules(
                path.read_text(encoding="utf-8"), module)
                if name.startswith("cloud.notify") and name not in NOTIFY_FOR_DOMAINS}
    assert found == set()
