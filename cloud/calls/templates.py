"""The SMS of an unanswered call (the customer's, or the expert's request for an identity
check), Finnish and English: where and since when, nothing about the customer."""
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

register("identity_unanswered", {
    "fi": Text("Vastaamaton pyyntö: {site_name}",
               "Asiantuntija pyytää neuvojaa tarkistamaan asiakkaan henkilöllisyyden: "
               "{site_name}, {room_name}. Pyyntö klo {pressed}, kukaan ei ole kuitannut sitä "
               "{waited} minuuttiin."),
    "en": Text("Unanswered request: {site_name}",
               "An expert asks an advisor to check the customer's identity: {site_name}, "
               "{room_name}. Asked at {pressed}; nobody has acknowledged it for {waited} "
               "minutes."),
})
