"""The real servers of the tests (Mosquitto, VictoriaMetrics, InfluxDB, PostgreSQL); the
benchmarks use the same, so the code lives in the package."""
from etapalvelu.localservers import *
from etapalvelu.localservers import DEBIAN_PACKAGES, PG_BIN  # noqa: F401
