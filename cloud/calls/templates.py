"""The SMS of an unanswered call, Finnish and English: where and since when, nothing about
the customer."""
from __future__ import annotations

from cloud.notify import Text, register

register("call_unanswered", {
    "fi": Text("Vastaamaton kutsu: {site_name}",
               "Asiakas kutsuu neuvojaa: {site_name}, {room_name}. Kutsu klo {pressed}, "
               "kukaan ei ole kuitannut sitä {waited} minuuttiin."),
    "en": Text("Unanswered call: {site_name}",
               "A customer is calling an advisor: {site_name}, {room_name}. Called at "
               "{pressed}; nobody has acknowledged it for {waited} minutes."),
})
