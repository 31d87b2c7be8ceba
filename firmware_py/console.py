"""Structured log lines on the serial console (``fw event=... key=value``), never secrets."""


def log(event, **fields):
    """Print one ``key=value`` log line."""
    parts = ["fw", "event=" + event]
    for key in sorted(fields):
        parts.append("%s=%s" % (key, fields[key]))
    print(" ".join(parts))
