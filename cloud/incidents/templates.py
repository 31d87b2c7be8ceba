"""The notification texts of incidents, Finnish and English. Contexts hold only facts about
rooms and devices, never about customers."""
from __future__ import annotations

from cloud.notify import Text, register

_ACTIONS_FI = "Kuittaa vastaanotetuksi: {ack_url}\nMerkitse korjatuksi: {resolve_url}"
_ACTIONS_EN = "Acknowledge: {ack_url}\nMark resolved: {resolve_url}"
_FACTS_FI = ("Tapaus #{incident}, {severity}\nKohde: {site_name}, huone {room}\n"
             "Laite: {device}\nHavainto: {what} ({code})\nAvattu: {opened}\n")
_FACTS_EN = ("Incident #{incident}, {severity}\nWhere: {site_name}, room {room}\n"
             "Device: {device}\nFinding: {what} ({code})\nOpened: {opened}\n")

register("incident_opened", {
    "fi": Text("[{severity}] Etäpalvelupisteen vika #{incident}: {what} – {site_name}",
               "Etäpalvelupisteessä on vika, joka on vastuullanne.\n\n" + _FACTS_FI
               + "Vasteaikatavoite: {response_minutes} min palveluaikana.\n\n" + _ACTIONS_FI),
    "en": Text("[{severity}] Remote-service point fault #{incident}: {what} – {site_name}",
               "A remote-service point has a fault you are responsible for.\n\n" + _FACTS_EN
               + "Response target: {response_minutes} min in service hours.\n\n" + _ACTIONS_EN),
})
register("incident_escalated", {
    "fi": Text("ERÄÄNTYNYT #{incident}: {what} – {site_name}",
               "Vastuuosapuoli {party} ei ole kuitannut vikaa vasteajassa (eräpäivä {due}).\n\n"
               + _FACTS_FI),
    "en": Text("OVERDUE #{incident}: {what} – {site_name}",
               "The responsible party {party} has not acknowledged the fault in time "
               "(due {due}).\n\n" + _FACTS_EN),
})
register("incident_resolved", {
    "fi": Text("Korjautunut #{incident}: {what} – {site_name}",
               "Vika on poistunut eikä vaadi enää toimenpiteitä.\n\n" + _FACTS_FI),
    "en": Text("Resolved #{incident}: {what} – {site_name}",
               "The fault has cleared and needs no more action.\n\n" + _FACTS_EN),
})
