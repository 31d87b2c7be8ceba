"""Interpretation in a booking: the one bounded list of interpreting languages (ISO 639-3
codes, each named in fi, sv and en), the two ways an interpreter takes part, and what a
booking keeps of the interpreter. Pure: no I/O.

A booking keeps the language and the mode; of a video interpreter also the e-mail the
session's invitation went to (personal data: purged with the customer's, never logged)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

VIDEO, ROOM = "video", "room"  # joins by video (a third party of the session) | in the room
MODES = (VIDEO, ROOM)

# ISO 639-3 code -> its name in fi, sv, en: sign languages first, then the national and
# Sami languages, then the languages most asked of the public interpreting services
LANGUAGES: dict[str, dict[str, str]] = {
    "fse": {"fi": "suomalainen viittomakieli", "sv": "finskt teckenspråk",
            "en": "Finnish Sign Language"},
    "fss": {"fi": "suomenruotsalainen viittomakieli", "sv": "finlandssvenskt teckenspråk",
            "en": "Finland-Swedish Sign Language"},
    "fin": {"fi": "suomi", "sv": "finska", "en": "Finnish"},
    "swe": {"fi": "ruotsi", "sv": "svenska", "en": "Swedish"},
    "sme": {"fi": "pohjoissaame", "sv": "nordsamiska", "en": "Northern Sami"},
    "smn": {"fi": "inarinsaame", "sv": "enaresamiska", "en": "Inari Sami"},
    "sms": {"fi": "koltansaame", "sv": "skoltsamiska", "en": "Skolt Sami"},
    "rmf": {"fi": "suomen romani", "sv": "finsk romani", "en": "Finnish Kalo Romani"},
    "eng": {"fi": "englanti", "sv": "engelska", "en": "English"},
    "rus": {"fi": "venäjä", "sv": "ryska", "en": "Russian"},
    "ukr": {"fi": "ukraina", "sv": "ukrainska", "en": "Ukrainian"},
    "est": {"fi": "viro", "sv": "estniska", "en": "Estonian"},
    "ara": {"fi": "arabia", "sv": "arabiska", "en": "Arabic"},
    "som": {"fi": "somali", "sv": "somaliska", "en": "Somali"},
    "fas": {"fi": "persia", "sv": "persiska", "en": "Persian"},
    "prs": {"fi": "dari", "sv": "dari", "en": "Dari"},
    "kmr": {"fi": "kurmandži", "sv": "kurmanji", "en": "Northern Kurdish (Kurmanji)"},
    "ckb": {"fi": "sorani", "sv": "sorani", "en": "Central Kurdish (Sorani)"},
    "tir": {"fi": "tigrinja", "sv": "tigrinja", "en": "Tigrinya"},
    "sqi": {"fi": "albania", "sv": "albanska", "en": "Albanian"},
    "tur": {"fi": "turkki", "sv": "turkiska", "en": "Turkish"},
    "vie": {"fi": "vietnam", "sv": "vietnamesiska", "en": "Vietnamese"},
    "tha": {"fi": "thai", "sv": "thailändska", "en": "Thai"},
    "cmn": {"fi": "mandariinikiina", "sv": "mandarin", "en": "Mandarin Chinese"},
    "pol": {"fi": "puola", "sv": "polska", "en": "Polish"},
    "fra": {"fi": "ranska", "sv": "franska", "en": "French"},
    "spa": {"fi": "espanja", "sv": "spanska", "en": "Spanish"},
}
LanguageCode = Literal[tuple(LANGUAGES)]  # the API's schema lists the codes


def language_name(code: str, lang: str) -> str:
    """The language ``code`` named in the page's language ``lang`` (the code itself when the
    list no longer knows it: an old booking's)."""
    return LANGUAGES.get(code, {}).get(lang, code)


class Interpreter(BaseModel):
    """An interpreter a visit needs: the language, the mode and, for one joining by video,
    the e-mail the session's invitation goes to at once (``invite_language``: the message's
    language, else the booking's)."""

    model_config = ConfigDict(extra="forbid")
    language: LanguageCode
    mode: Literal["video", "room"]
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    invite_language: Literal["fi", "sv", "en"] | None = None

    @model_validator(mode="after")
    def _email_only_by_video(self) -> Interpreter:
        if self.email is not None and self.mode != VIDEO:
            raise ValueError("an interpreter in the room gets no video invitation")
        return self
