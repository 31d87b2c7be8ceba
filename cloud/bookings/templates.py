"""Message templates of the booking system, registered with the shared notify module.

The notify worker renders by template name, so a worker process imports this module (as it
does every domain's ``templates``). Contexts hold place, time, service and room facts only.
"""
from __future__ import annotations

from cloud.notify import Text, register

register("booking_confirmation", {
    "fi": Text("Ajanvaraus {date} klo {time}",
               "Sinulle on varattu etäpalveluaika: {service}, {date} klo {time}, {place}."),
    "sv": Text("Tidsbokning {date} kl. {time}",
               "Du har en bokad distanstjänsttid: {service}, {date} kl. {time}, {place}."),
    "en": Text("Booking {date} at {time}",
               "Your remote-service visit is booked: {service}, {date} at {time}, {place}."),
})
register("booking_reminder", {
    "fi": Text("Muistutus: etäpalveluaika {date} klo {time}",
               "Muistutus huomisesta etäpalveluajasta: {service}, klo {time}, {place}."),
    "sv": Text("Påminnelse: distanstjänsttid {date} kl. {time}",
               "Påminnelse om din distanstjänsttid i morgon: {service}, kl. {time}, {place}."),
    "en": Text("Reminder: remote-service visit {date} at {time}",
               "A reminder of your remote-service visit tomorrow: {service}, at {time}, {place}."),
})
register("booking_room_not_ready", {
    "fi": Text("Tila {site}/{room} ei ole valmis klo {time} varaukseen",
               "Varauksen {booking} ({authority}) tila ei ole valmis: {problems}. "
               "Häiriö: {incident}."),
    "sv": Text("Rummet {site}/{room} är inte klart för bokningen kl. {time}",
               "Rummet för bokning {booking} ({authority}) är inte klart: {problems}. "
               "Störning: {incident}."),
    "en": Text("Room {site}/{room} is not ready for the {time} booking",
               "The room of booking {booking} ({authority}) is not ready: {problems}. "
               "Incident: {incident}."),
})
register("interpreter_invitation", {
    "fi": Text("Tulkkauskutsu: etäpalvelu {date} klo {time}",
               "Sinut on kutsuttu tulkiksi ({language}) etäpalvelun videotapaamiseen: "
               "{service}, {date} klo {time}, {place}.\n\n"
               "Liity tästä linkistä aikaisintaan klo {opens}: {link}\n\n"
               "Tunnistaudut vahvasti ja vakuutat olevasi paikassa, jossa luottamuksellisia "
               "asioita voi käsitellä; asiantuntija päästää sinut tapaamiseen."),
    "sv": Text("Inbjudan att tolka: distanstjänst {date} kl. {time}",
               "Du är inbjuden att tolka ({language}) i ett videomöte i distanstjänsten: "
               "{service}, {date} kl. {time}, {place}.\n\n"
               "Anslut via länken tidigast kl. {opens}: {link}\n\n"
               "Du identifierar dig starkt och försäkrar att du är på en plats där "
               "konfidentiella ärenden kan behandlas; experten släpper in dig i mötet."),
    "en": Text("Invitation to interpret: remote service {date} at {time}",
               "You are invited to interpret ({language}) in a remote-service video "
               "meeting: {service}, {date} at {time}, {place}.\n\n"
               "Join through this link from {opens} at the earliest: {link}\n\n"
               "You identify yourself with strong authentication and affirm that you are in "
               "a place fit for confidential matters; the expert admits you to the meeting."),
})
register("feedback_ask", {
    "fi": Text("Miten käyntisi onnistui?",
               "Kiitos käynnistä: {place}. Miten onnistui? Vastaa yhteen kysymykseen "
               "(linkki toimii 3 vrk): {link}"),
    "sv": Text("Hur gick ditt besök?",
               "Tack för besöket: {place}. Hur gick det? Svara på en fråga "
               "(länken gäller i 3 dygn): {link}"),
    "en": Text("How did your visit go?",
               "Thank you for your visit: {place}. How did it go? Answer one question "
               "(the link works for 3 days): {link}"),
})
