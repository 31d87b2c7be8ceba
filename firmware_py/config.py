"""Device configuration: ``config.json`` (room, broker, pins, timings) and ``secrets.json``
(Wi-Fi and broker passwords), both in the device's root folder.

Every setting has a default except the room and the broker host; a bad value stops the
device at boot with a clear console line rather than later with an odd fault.
"""
import json

DEVICES = ("callbutton", "occupancy")
_LEVEL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-"


class ConfigError(ValueError):
    """A configuration file is missing a setting or holds a bad value."""


def _level(value, what):
    if not isinstance(value, str) or not 1 <= len(value) <= 32 or value[0] in "_-" \
            or any(ch not in _LEVEL_CHARS for ch in value):
        raise ConfigError("%s must be 1-32 of a-z 0-9 _ - (got %r)" % (what, value))
    return value


def _read_json(path, required):
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError:
        if required:
            raise ConfigError("missing " + path)
        return {}
    except ValueError:
        raise ConfigError("not valid JSON: " + path)
    if not isinstance(data, dict):
        raise ConfigError("not a JSON object: " + path)
    return data


class Config:
    """Settings of one device; times are in milliseconds unless the name says ``_s``."""

    def __init__(self, data, secrets, root="."):
        self.root = root
        self.device = data.get("device", "callbutton")
        if self.device not in DEVICES:
            raise ConfigError("device must be one of %s" % ", ".join(DEVICES))
        self.site = _level(data.get("site"), "site")
        self.room = _level(data.get("room"), "room")
        wifi = data.get("wifi", {})
        self.wifi_ssid = wifi.get("ssid", "")
        self.wifi_password = secrets.get("wifi_password", "")
        broker = data.get("broker", {})
        self.broker_tls = broker.get("tls", True)
        port = broker.get("port", 8883 if self.broker_tls else 1883)
        # one host, or the broker pair as a list in order of preference ("host" or
        # "host:port"); the device moves to the next when one fails
        self.brokers = _brokers(broker.get("host"), port)
        self.broker_host, self.broker_port = self.brokers[0]
        # the fleet's files for this device: CA, client certificate and key (mutual TLS)
        self.broker_ca = broker.get("ca", "ca.crt")
        self.broker_cert = broker.get("cert", "client.crt")
        self.broker_key = broker.get("key", "client.key")
        self.keepalive_s = broker.get("keepalive_s", 60)
        # the broker binds each identity to one client id: site.room.device, as provisioned
        self.client_id = broker.get("client_id", "%s.%s.%s" % (self.site, self.room,
                                                               self.device))
        self.mqtt_password = secrets.get("mqtt_password")
        self.mqtt_username = secrets.get("mqtt_username", self.client_id
                                         if self.mqtt_password is not None else None)
        self.ntp_host = data.get("ntp_host", "pool.ntp.org")
        backoff = data.get("backoff", {})
        self.backoff_min_ms = backoff.get("min_ms", 1000)
        self.backoff_max_ms = backoff.get("max_ms", 60000)
        self.publish_timeout_ms = backoff.get("publish_timeout_ms", 10000)
        self.pins = data.get("pins", {})
        battery = data.get("battery", {})
        self.battery_divider = battery.get("divider", 2.0)
        self.battery_low_v = battery.get("low_v", 3.4)
        # the call button sleeps between reports, the mains-powered sensor reports often
        self.report_s = data.get("report_s", 21600 if self.device == "callbutton" else 300)
        button = data.get("button", {})
        self.debounce_ms = button.get("debounce_ms", 30)
        self.long_press_ms = button.get("long_press_ms", 2000)
        call = data.get("call", {})
        self.ack_wait_s = call.get("ack_wait_s", 600)
        self.steady_s = call.get("steady_s", 60)
        self.retry_awake_s = call.get("retry_awake_s", 120)
        self.retry_sleep_s = call.get("retry_sleep_s", 60)
        self.idle_awake_ms = call.get("idle_awake_ms", 3000)
        occupancy = data.get("occupancy", {})
        self.confirm_ms = occupancy.get("confirm_ms", 1000)
        self.hold_ms = occupancy.get("hold_ms", 300000)
        self.queue_limit = data.get("queue_limit", 32)
        self.watchdog_s = data.get("watchdog_s", 120)  # 0: no watchdog
        self.unix = data.get("unix", {})  # settings of the Unix-port stand-in board only

    def path(self, name):
        """A file in the device's root folder."""
        return self.root + "/" + name


def load(root="."):
    """Read ``config.json`` and ``secrets.json`` from ``root``."""
    return Config(_read_json(root + "/config.json", True),
                  _read_json(root + "/secrets.json", False), root)


def _brokers(hosts, port):
    """``[(host, port), ...]`` from ``broker.host``: a name or a list of names."""
    if isinstance(hosts, str):
        hosts = [hosts]
    if not hosts or not isinstance(hosts, list):
        raise ConfigError("broker.host is required (a host, or a list of them)")
    brokers = []
    for entry in hosts:
        host, _, own_port = str(entry).partition(":")
        if not host:
            raise ConfigError("broker.host has an empty entry")
        try:
            brokers.append((host, int(own_port) if own_port else port))
        except ValueError:
            raise ConfigError("broker.host %r: the port is not a number" % entry)
    return brokers
