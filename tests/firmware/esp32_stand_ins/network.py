"""Stand-in for the ESP32 port's ``network`` (the radio seam)."""
STA_IF = 0
STAT_CONNECT_FAIL = 203
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_CONNECTING = 1001
state = {"active": False, "connected": False, "status": STAT_CONNECTING, "joins": []}


class WLAN:
    def __init__(self, interface):
        self.interface = interface

    def active(self, *set_to):
        if set_to:
            state["active"] = set_to[0]
            return None
        return state["active"]

    def connect(self, ssid, key):
        state["joins"].append(ssid)

    def isconnected(self):
        return state["connected"]

    def status(self, param=None):
        if param == "rssi":
            return -67
        return state["status"]
