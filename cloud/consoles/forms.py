"""Reading the consoles' plain HTML forms: the posted fields, a local day and time, the
customer of a booking, and the error a field or a booking rule gives, named by the input's
id so the error summary can link to it."""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError

from cloud.api.inputs import Reason
from cloud.bookings import service as bookings
from cloud.bookings.interpretation import LANGUAGES, Interpreter
from cloud.instants import EARLIEST_YEAR, LATEST_YEAR
from cloud.sites.hours import DEFAULT_ZONE, local_instant
from cloud.texts import localized

REASON = TypeAdapter(Reason)


class FormError(Exception):
    """A field of a form that cannot be used: ``field`` is the input's id, ``key`` the text
    that says why; ``status`` 409 for a conflict with other bookings, else 422."""

    def __init__(self, field: str, key: str, *, status: int = 422, **values) -> None:
        super().__init__(key)
        self.field, self.key, self.values, self.status = field, key, values, status


def known(value: str | None, allowed) -> str | None:
    """``value`` when it is one of ``allowed``, else None."""
    return value if value in allowed else None


def whole_number(text: str | None) -> int | None:
    """A non-negative whole number from a field, else None."""
    return int(text) if text and text.isdigit() else None


def local_start(form: dict, *, day_field: str, time_field: str, default_day: date,
                zone: ZoneInfo = DEFAULT_ZONE) -> datetime:
    """The instant of the form's local ``date`` (``default_day`` when empty) and ``time``
    (``hh:mm``) in the site's ``zone``."""
    raw_day = form.get("date", "")
    try:
        day = date.fromisoformat(raw_day) if raw_day else default_day
    except ValueError:
        raise FormError(day_field, "advisor.error.date") from None
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:  # 9999-12-31 has no next midnight
        raise FormError(day_field, "advisor.error.date")
    try:
        wall = time.fromisoformat(form.get("time", ""))
    except ValueError:
        raise FormError(time_field, "advisor.error.time") from None
    return local_instant(day, wall.hour * 60 + wall.minute, zone)


def length_of(form: dict, prefix: str, service, lang: str) -> int:
    """The form's visit length in minutes when ``service`` allows it; else refused at the
    length's field, naming the lengths it does allow (never silently changed to one)."""
    minutes = whole_number(form.get("minutes"))
    if minutes not in service.lengths:
        raise FormError(f"{prefix}-minutes", "advisor.error.length",
                        service=localized(service.name.model_dump(), lang),
                        lengths=" / ".join(f"{m} min" for m in service.lengths))
    return minutes


def customer_of(form: dict, prefix: str) -> bookings.Customer:
    """The booking's customer from the form's name, phone, language and the consent to a
    feedback text message (a ticked box)."""
    name = form.get("name", "")
    if not name:
        raise FormError(f"{prefix}-name", "advisor.error.name")
    consent = form.get("feedback_sms") == "yes"
    phone = form.get("phone") or None
    if consent and phone is None:
        raise FormError(f"{prefix}-phone", "advisor.error.feedback_phone")
    try:
        return bookings.Customer(name=name, phone=phone, feedback_sms=consent,
                                 language=form.get("language") or "fi")
    except ValidationError as error:
        fields = {str(e["loc"][0]) for e in error.errors() if e.get("loc")}
        field = "phone" if "phone" in fields else "name"
        raise FormError(f"{prefix}-{field}", f"advisor.error.{field}") from None


def reason_of(form: dict, field: str) -> str:
    """The form's ``reason`` as the one free-text type takes it (``field`` names the input
    for the error summary)."""
    try:
        return REASON.validate_python(form.get("reason", ""))
    except ValidationError:
        raise FormError(field, "advisor.error.reason") from None


def interpreter_of(form: dict, prefix: str) -> Interpreter | None:
    """The interpreter the form asks for (None: no language chosen), checked by the one
    model of ``cloud.bookings.interpretation``."""
    code = form.get("interpreter", "")
    if not code:
        return None
    if code not in LANGUAGES:
        raise FormError(f"{prefix}-interpreter", "interpreter.error.language")
    try:
        return Interpreter(language=code, mode=form.get("interpreter_mode") or "video",
                           email=form.get("interpreter_email") or None,
                           invite_language=form.get("interpreter_invite_language") or None)
    except ValidationError:
        raise FormError(f"{prefix}-interpreter-email", "interpreter.error.email") from None
