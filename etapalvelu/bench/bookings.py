"""``etapalvelu bench bookings``: availability latency and booking throughput over a month of
bookings across 500 rooms.

The store is filled with a month of weekday bookings (about 70 % of the slots of every room);
then ``--clients`` concurrent clients each ask for the free visits of a random site and service
over a random working week, pausing a random think time (mean ``--think-ms``) between requests,
as staff at booking screens do; then ``--bookers`` clients book as fast as they can. Results go
to stdout as one JSON line; logs to stderr.
"""
from __future__ import annotations

import contextlib
import json
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from etapalvelu.logs import event_log, setup_logging

log = event_log("bench.bookings")
AUTHORITIES = ("kela", "dvv", "vero")
SERVICES = ("kela-benefits", "dvv-population", "vero-taxation")
MONTH_START = date(2026, 3, 2)  # a Monday; the month holds the spring DST change


def _registry(sites: int, rooms_per_site: int):
    from cloud.registry import Registry

    names = {"fi": "x", "sv": "x", "en": "x"}
    return Registry.model_validate({
        "authorities": {a: {"name": names} for a in AUTHORITIES},
        "sites": {f"s{i:03d}": {"name": names, "municipality": "M", "authorities": AUTHORITIES,
                                "building_hours": {"mon-fri": ["08:00-16:00"]},
                                "rooms": {f"r{j}": {"name": "room"}
                                          for j in range(1, rooms_per_site + 1)}}
                  for i in range(sites)}})


def _rules(registry):
    from cloud.bookings.catalogue import load_catalogue
    from cloud.bookings.service import BookingRules

    pilot = load_catalogue(_pilot())
    catalogue = pilot.model_copy(update={
        "services": {k: v for k, v in pilot.services.items() if k in SERVICES},
        # experts scale with the rooms: enough for the load, few enough to be a real layer
        "experts": {a: {"mon-fri": [f"09:00-15:00 x {len(registry.rooms()) // 2}"]}
                    for a in AUTHORITIES}})
    return BookingRules(registry, catalogue)


def _pilot():
    from cloud.registry import load_registry

    return load_registry()


def _working_days(first: date, days: int) -> list[date]:
    return [first + timedelta(days=d) for d in range(days)
            if (first + timedelta(days=d)).weekday() < 5]


def fill_month(sessions, rules, *, utilisation: float, seed: int) -> int:
    """Insert a month of bookings straight into the tables (the fill is not measured)."""
    from collections import Counter

    from sqlalchemy import insert

    from cloud.bookings.hours import SLOT, local_instant
    from cloud.bookings.models import BookedSlot, Booking, ExpertLoad

    rng = random.Random(seed)
    now = datetime(2026, 2, 1, tzinfo=UTC)
    total = 0
    for day in _working_days(MONTH_START, 31):
        bookings, slots, load = [], [], Counter()
        for site, room, _ in rules.registry.rooms():
            at = local_instant(day, 9 * 60)
            end_of_day = local_instant(day, 15 * 60)
            while at < end_of_day:
                length = 2 if rng.random() < 0.3 and at + 2 * SLOT <= end_of_day else 1
                if rng.random() < utilisation:
                    service = rng.choice(SERVICES)
                    bookings.append({"site": site, "room": room,
                                     "authority": service.split("-")[0], "service": service,
                                     "start": at, "end": at + length * SLOT,
                                     "channel": "phone_service", "status": "booked",
                                     "language": "fi", "customer_name": "N", "moves": 0,
                                     "created_at": now, "created_by": "bench"})
                at += length * SLOT
        with sessions() as session:
            ids = session.scalars(insert(Booking).returning(Booking.id), bookings).all()
            for booking_id, b in zip(ids, bookings):
                slot = b["start"]
                while slot < b["end"]:
                    slots.append({"site": b["site"], "room": b["room"], "start": slot,
                                  "booking_id": booking_id})
                    load[(b["authority"], slot)] += 1
                    slot += SLOT
            session.execute(insert(BookedSlot), slots)
            session.execute(insert(ExpertLoad), [{"authority": a, "start": s, "count": n}
                                                 for (a, s), n in load.items()])
            session.commit()
        total += len(bookings)
    return total


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_availability_in_workers(url: str, rules, *, workers: int, clients: int,
                                seconds: float, think_ms: float, seed: int) -> list[float]:
    """Spread the clients over ``workers`` processes, as API replicas or uvicorn workers
    spread them over the cores; each process has its own engine."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    shares = [clients // workers + (1 if w < clients % workers else 0) for w in range(workers)]
    processes = [context.Process(target=_worker, args=(url, rules, share, seconds, think_ms,
                                                       seed + 1000 * w, results))
                 for w, share in enumerate(shares)]
    for process in processes:
        process.start()
    latencies: list[float] = []
    for _ in processes:
        latencies.extend(results.get(timeout=seconds + 120))
    for process in processes:
        process.join(timeout=30)
    return latencies


def _worker(url, rules, clients, seconds, think_ms, seed, results) -> None:
    from cloud.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    _warm_up(make_sessionmaker(engine), rules)
    results.put(run_availability(make_sessionmaker(engine), rules, clients=clients,
                                 seconds=seconds, think_ms=think_ms, seed=seed))
    engine.dispose()


def _warm_up(sessions, rules) -> None:
    """What a server does before its first request: connect, compile the statements, load
    the holiday calendar of the year; not measured."""
    from cloud.bookings.service import availability

    site = next(iter(rules.registry.sites))
    for service in SERVICES:
        with sessions() as session:
            availability(session, rules, site=site, service=service, first=MONTH_START,
                         last=MONTH_START + timedelta(days=27),
                         now=datetime(2026, 2, 1, tzinfo=UTC))


def run_availability(sessions, rules, *, clients: int, seconds: float, think_ms: float,
                     seed: int) -> list[float]:
    """Latencies (ms) of availability queries by ``clients`` concurrent clients."""
    from cloud.bookings.service import availability

    sites = list(rules.registry.sites)
    weeks = [MONTH_START + timedelta(weeks=w) for w in range(4)]
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    now = datetime(2026, 2, 1, tzinfo=UTC)

    def client(n: int) -> None:
        rng = random.Random(seed + n)
        time.sleep(rng.uniform(0, think_ms / 1000))  # clients arrive spread out
        mine = []
        while time.monotonic() < deadline:
            monday = rng.choice(weeks)
            started = time.perf_counter()
            with sessions() as session:
                availability(session, rules, site=rng.choice(sites),
                             service=rng.choice(SERVICES), first=monday,
                             last=monday + timedelta(days=4), now=now)
            mine.append((time.perf_counter() - started) * 1000)
            time.sleep(rng.expovariate(1000 / think_ms))
        with lock:
            latencies.extend(mine)

    _run_threads(client, clients)
    return latencies


def run_booking(sessions, rules, *, clients: int, seconds: float, seed: int) -> tuple[int, int]:
    """(booked, conflicts) by ``clients`` booking free visits as fast as they can."""
    from cloud.bookings.hours import local_instant
    from cloud.bookings.service import BookingRefused, Customer, create_booking

    sites = list(rules.registry.sites)
    day = MONTH_START + timedelta(days=35)  # a fresh week: every slot is free
    counts = {"booked": 0, "conflicts": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    now = datetime(2026, 2, 1, tzinfo=UTC)

    def client(n: int) -> None:
        rng = random.Random(seed * 7 + n)
        booked = conflicts = 0
        while time.monotonic() < deadline:
            start = local_instant(day + timedelta(days=rng.randrange(5)),
                                  9 * 60 + 30 * rng.randrange(12))
            with sessions() as session:
                try:
                    create_booking(session, rules, site=rng.choice(sites),
                                   service=rng.choice(SERVICES), start=start, minutes=30,
                                   channel="phone_service", customer=Customer(name="N"),
                                   actor="bench", now=now)
                    session.commit()
                    booked += 1
                except BookingRefused:
                    conflicts += 1
        with lock:
            counts["booked"] += booked
            counts["conflicts"] += conflicts

    _run_threads(client, clients)
    return counts["booked"], counts["conflicts"]


def _run_threads(target, count: int) -> None:
    threads = [threading.Thread(target=target, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@click.command()
@click.option("--database-url", help="default: a SQLite file in a temporary folder")
@click.option("--postgres", is_flag=True,
              help="start a local PostgreSQL (Debian package) for the run and use it")
@click.option("--sites", default=100, show_default=True)
@click.option("--rooms-per-site", default=5, show_default=True)
@click.option("--clients", default=100, show_default=True, help="concurrent availability clients")
@click.option("--think-ms", default=1000.0, show_default=True,
              help="mean pause of a client between requests")
@click.option("--seconds", default=20.0, show_default=True, help="length of each phase")
@click.option("--workers", default=2, show_default=True,
              help="processes serving the clients (like API workers; one per core)")
@click.option("--bookers", default=8, show_default=True, help="concurrent booking clients")
@click.option("--utilisation", default=0.7, show_default=True)
@click.option("--seed", default=1, show_default=True)
def command(database_url: str | None, postgres: bool, sites: int, rooms_per_site: int, clients: int,
            think_ms: float, seconds: float, workers: int, bookers: int, utilisation: float,
            seed: int) -> None:
    """Availability p50/p99 and bookings per second over a month across the rooms."""
    setup_logging("info", "bench-bookings")
    from cloud.db import make_engine, make_sessionmaker, migrate

    with tempfile.TemporaryDirectory(prefix="bench-bookings-") as folder, \
            contextlib.ExitStack() as servers:
        url = database_url or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        if postgres:
            from etapalvelu.localservers import PostgreSQL

            url = servers.enter_context(PostgreSQL(Path(folder) / "pg")).create_database("bench")
        migrate(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        registry = _registry(sites, rooms_per_site)
        rules = _rules(registry)
        started = time.perf_counter()
        filled = fill_month(sessions, rules, utilisation=utilisation, seed=seed)
        with engine.connect() as connection:  # statistics as a store in service would have
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
        log.info("bench.bookings_filled", bookings=filled,
                 seconds=round(time.perf_counter() - started, 1))
        engine.dispose()  # no connection crosses the fork
        latencies = run_availability_in_workers(url, rules, workers=workers, clients=clients,
                                                seconds=seconds, think_ms=think_ms, seed=seed)
        booked, conflicts = run_booking(sessions, rules, clients=bookers, seconds=seconds,
                                        seed=seed)
        engine.dispose()
    click.echo(json.dumps({
        "benchmark": "bookings", "database": url.split(":", 1)[0],
        "rooms": len(registry.rooms()), "sites": sites, "bookings_in_store": filled,
        "availability_clients": clients, "workers": workers, "think_ms_mean": think_ms,
        "availability_range_days": 5, "availability_requests": len(latencies),
        "availability_per_s": round(len(latencies) / seconds, 1),
        "availability_p50_ms": round(statistics.median(latencies), 2),
        "availability_p99_ms": round(_percentile(latencies, 0.99), 2),
        "availability_max_ms": round(max(latencies), 2),
        "booking_clients": bookers, "bookings_made": booked, "booking_conflicts": conflicts,
        "bookings_per_s": round(booked / seconds, 1), "seconds_per_phase": seconds,
    }))
