"""The firmware compiles for the ESP32 (Xtensa, windowed ABI) with the real ``mpy-cross``."""
import subprocess

import pytest

from tests.firmware.harness import FIRMWARE, MPY_CROSS

MODULES = sorted(FIRMWARE.glob("*.py"))


def test_the_firmware_has_its_modules():
    names = {path.stem for path in MODULES}
    assert {"main", "hw", "hw_esp32", "hw_unix", "callbutton", "occupancy", "wire"} <= names


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_module_compiles_to_mpy_for_the_esp32(module, tmp_path):
    target = tmp_path / (module.stem + ".mpy")
    done = subprocess.run([MPY_CROSS, "-march=xtensawin", str(module), "-o", str(target)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    header = target.read_bytes()[:2]
    assert header == b"M\x06"  # .mpy format version 6, what MicroPython 1.19 and later load
