"""The SMS of an unanswered call (the customer's, or the expert's request for an identity
check), Finnish and English: where and since when, nothing about the customer. ``pressed`` is
a clock time and ``waited`` a duration, both as ``cloud.formats`` writes them."""
from __future__ import annotations

from cloud.notify import Text, register

register("call_unanswered", {
    "fi": Text("Vastaamaton kutsu: {site_name}",
               "Asiakas kutsuu neuvojaa: {site_name}, {room_name}. Kutsu klo {pressed}, "
               "kuittaamatta {waited}."),
    "en": Text("Unanswered call: {site_name}",
               "A customer is calling an advisor: {site_name}, {room_name}. Called at "
               "{pressed}; unacknowledged for {waited}."),
})

register("identity_unanswered", {
    "fi": Text("Vastaamaton pyyntö: {site_name}",
               "Asiantuntija pyytää neuvojaa tarkistamaan asiakkaan henkilöllisyyden: "
               "{site_name}, {room_name}. Pyyntö klo {pressed}, kuittaamatta {waited}."),
    "en": Text("Unanswered request: {site_name}",
               "An expert asks an advisor to check the customer's identity: {site_name}, "
               "{room_name}. Asked at {pressed}; unacknowledged for {waited}."),
})
