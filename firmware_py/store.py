"""Flash storage that survives deep sleep and power loss: the sequence number and the retry queue.

Every write goes to a temporary file that is then renamed over the old one, so a power cut
leaves either the old or the new content, never half of it (littlefs renames atomically).
"""
import os


def exists(path):
    """Whether a file or folder exists."""
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def write_atomic(path, data):
    """Replace the file at ``path`` with ``data`` (bytes or str) in one step."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    try:
        os.rename(tmp, path)
    except OSError:  # FAT refuses to rename over an existing file
        os.remove(path)
        os.rename(tmp, path)


def read_text(path, default=None):
    """The file's text, or ``default`` when it does not exist."""
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


class Sequence:
    """The per-device sequence number, persisted on every step so it never goes back."""

    def __init__(self, path):
        self._path = path
        text = read_text(path, "0").strip()
        self.last = int(text) if text.isdigit() else 0

    def next(self):
        """The next sequence number (already stored)."""
        self.last += 1
        write_atomic(self._path, str(self.last))
        return self.last


class RetryQueue:
    """QoS 1 messages not yet acknowledged by the broker, oldest first, one file each.

    A file is named by the message's sequence number, so listing order is sending order.
    When ``limit`` is reached the oldest message is dropped: a stale call is worth less
    than the newest one.
    """

    def __init__(self, folder, limit=32):
        self._folder = folder
        self._limit = limit
        if not exists(folder):
            os.mkdir(folder)
        for name in os.listdir(folder):  # a write cut short by power loss
            if name.endswith(".tmp"):
                os.remove(folder + "/" + name)
        # the names are kept in memory: the loop asks every pass, flash is read once
        self._names = sorted(os.listdir(folder))

    def names(self):
        """Names of the queued messages, oldest first."""
        return list(self._names)

    def __len__(self):
        return len(self._names)

    def push(self, seq, topic_name, payload):
        """Store a message; return its name and the names dropped to stay within the limit."""
        name = "%012d" % seq
        write_atomic(self._folder + "/" + name, topic_name.encode() + b"\n" + payload)
        if name not in self._names:
            self._names.append(name)
            self._names.sort()
        dropped = []
        while len(self._names) > self._limit:
            dropped.append(self._names[0])
            self.remove(dropped[-1])
        return name, dropped

    def peek(self):
        """``(name, topic, payload)`` of the oldest message, or ``None`` when empty."""
        if not self._names:
            return None
        name = self._names[0]
        with open(self._folder + "/" + name, "rb") as f:
            data = f.read()
        cut = data.find(b"\n")
        return name, data[:cut].decode(), data[cut + 1:]

    def remove(self, name):
        """Forget a message the broker acknowledged."""
        if name in self._names:
            self._names.remove(name)
        try:
            os.remove(self._folder + "/" + name)
        except OSError:
            pass
