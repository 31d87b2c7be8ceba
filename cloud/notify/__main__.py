"""``python -m cloud.notify``: run one notification worker against ``ETP_DATABASE_URL``."""
from __future__ import annotations

import logging
import os
import signal
import threading

from cloud.db import make_engine, make_sessionmaker
from cloud.notify.settings import NotifySettings
from cloud.notify.worker import NotifyWorker
from cloud.settings import CloudSettings


def main() -> None:
    """Run until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = CloudSettings()
    engine = make_engine(settings.database_url, pool=settings.database_pool)
    worker = NotifyWorker(make_sessionmaker(engine), NotifySettings(),
                          name=os.environ.get("ETP_NOTIFY_NAME", "notify-1")).start()
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    worker.stop()
    engine.dispose()


if __name__ == "__main__":
    main()
