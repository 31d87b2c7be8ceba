"""Boot entry: read the configuration, open the board, run the configured device.

On a board this file runs at every boot, deep-sleep wakes included. On the Unix port
(``micropython main.py ROOT``) a simulated deep sleep raises ``Reboot`` and the device is
started anew here, keeping only what it stored in ``ROOT``.
"""
import sys

import config as device_config
from console import log
from hw import Reboot, open_board


def make_device(board, config):
    """The device object for ``config.device``."""
    if config.device == "callbutton":
        from callbutton import CallButton
        return CallButton(board, config)
    from occupancy import OccupancySensor
    return OccupancySensor(board, config)


def run(root="."):
    """Run the device whose configuration is in ``root`` until power-off."""
    try:
        config = device_config.load(root)
    except device_config.ConfigError as exc:
        log("config_error", detail=str(exc).replace(" ", "_"))
        raise
    board = open_board(config)
    while True:
        try:
            make_device(board, config).run()
        except Reboot:
            continue


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else ".")
