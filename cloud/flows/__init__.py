"""Journeys that cross domains, one file each, written over the domains' keyword-only service
functions (a domain never imports another's tables, and the domains do not import each other):

- ``incidents``: an incident that stops a room -> the bookings it hits and the room closed
  for it -> the room reopened when the incident is resolved (by the engine, staff or a link);
- ``incident_notifications``: an incident opened (engine or report) -> its party's channels
  through the notify outbox -> a channel accepts (the response clock starts) -> past due,
  escalated; resolved by the engine -> the party told;
- ``reminders``: a booking made or moved -> its confirmation; the day before -> its
  reminder, both through the notify outbox;
- ``terminal``: the room terminal's "call the advisor" -> a press of the room's call button
  over the replica's live bus -> the summon loop; its "I am here" tap -> the call cleared;
- ``purge``: after the retention, the bookings' personal data blanked -> the notify outbox's
  addresses of their messages forgotten;
- ``readiness``: fifteen minutes before a visit, the room read from the twin -> the twin's
  serve rule -> the site's advisors and the authority's experts alerted, naming the incident.
- ``feedback_sms``: a visit ended (its session's end, or the advisor's "done") -> when its
  customer agreed and did not answer on the terminal, one single-use link -> one SMS through
  the notify outbox -> the answer on the public page, counted with the channel ``sms``;
- ``schedule``: one round of the booking schedule: due reminders -> readiness -> purge, each
  step committed on its own; and the call-button calls' escalation round;
- ``summon``: a call-button press stored by the ingest -> a call opened -> the site's consoles
  on every API replica (live bus) -> an advisor acknowledges -> the button's LED steady -> a
  long press, the advisor's arrival or the timeout clears it; unanswered: a second alert, then
  an SMS to the site's backup number.

The caller of a flow owns the transaction (commits), as with a service function; ``schedule``
is the caller of the others. Domains never import flows, except a domain's views, which may
start a journey (``tests/test_layout.py`` holds the arrows).
"""
