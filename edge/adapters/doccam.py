"""The document camera the customer shows papers with (a USB V4L2 camera)."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from edge.adapters.base import OK, Adapter, AdapterError, Emit, Reading, SimAdapter


class SimDocCam(SimAdapter):
    """A simulated document camera."""

    device = "doccam"
    FAULTS: ClassVar[dict[str, Reading]] = {
        "unplugged": Reading("missing", "unplugged", "no V4L2 device"),
        "frozen": Reading("fault", "frozen", "camera delivers no frames"),
    }
    RESTART_CLEARS: ClassVar[frozenset[str]] = frozenset({"frozen"})

    def read_telemetry(self) -> dict[str, int | float]:
        return {"fps": 0 if self.faults else 30}


def video_devices(sys_root: Path = Path("/sys")) -> dict[str, str]:
    """V4L2 device node name -> device name, from ``/sys/class/video4linux``."""
    found = {}
    for node in sorted((sys_root / "class/video4linux").glob("*")):
        try:
            found[node.name] = (node / "name").read_text(errors="replace").strip()
        except OSError:
            continue
    return found


class LinuxDocCam(Adapter):
    """The real document camera: a V4L2 device whose name contains ``video_name``
    (any V4L2 device when not set)."""

    device = "doccam"

    def __init__(self, emit: Emit, video_name: str | None = None,
                 sys_root: Path = Path("/sys")) -> None:
        super().__init__(emit)
        self.video_name = (video_name or "").lower()
        self.sys_root = sys_root

    def _matching(self) -> list[str]:
        return [node for node, name in video_devices(self.sys_root).items()
                if self.video_name in name.lower()]

    def read_health(self) -> Reading:
        return OK if self._matching() else Reading("missing", "unplugged", "no V4L2 device")

    def read_telemetry(self) -> dict[str, int | float]:
        return {"video_devices": len(self._matching())}

    def restart(self) -> str:
        """Re-authorise the camera's USB device, which makes the kernel re-probe it."""
        nodes = self._matching()
        if not nodes:
            raise AdapterError("no V4L2 device to restart")
        interface = self.sys_root / "class/video4linux" / nodes[0] / "device"
        usb = interface.resolve().parent  # the interface's parent is the USB device
        authorized = usb / "authorized"
        if not interface.exists() or not authorized.exists():
            raise AdapterError(f"{nodes[0]} is not a USB camera; cannot re-authorise it")
        try:
            authorized.write_text("0")
            authorized.write_text("1")
        except OSError as exc:
            raise AdapterError(f"cannot re-authorise USB device: {exc.strerror or exc}") from None
        return f"re-authorised {usb.name}"
