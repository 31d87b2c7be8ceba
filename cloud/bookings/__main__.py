"""``python -m cloud.bookings``: run the booking system's periodic work every minute."""
from __future__ import annotations

import logging

from cloud.bookings.scheduled import run_forever
from cloud.bookings.service import BookingRules
from cloud.bookings.settings import BookingSettings
from cloud.db import make_engine, make_sessionmaker
from cloud.registry import load_registry
from cloud.settings import CloudSettings


def main() -> None:
    """Read the settings and tick forever."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = CloudSettings()
    rules = BookingRules.load(load_registry(settings.registry_file))
    engine = make_engine(settings.database_url, pool=settings.database_pool)
    run_forever(make_sessionmaker(engine), rules, BookingSettings())


if __name__ == "__main__":
    main()
