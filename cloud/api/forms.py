"""The one reader of the pages' plain HTML forms (URL-encoded, as a form without script
posts them): every field bounded and checked like the API's free text, so a page takes no
input the API would refuse."""
from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

from cloud.api.inputs import text_lines
from cloud.api.refusals import invalid

MAX_FORM_FIELD = 4000  # the longest free text any page takes (a comment)


async def read_form(request: Request, *, raw: frozenset[str] = frozenset({"password"})
                    ) -> dict[str, str]:
    """The fields of the posted form, the first value of each, stripped of surrounding white
    space (but those named in ``raw``); a 422 refusal for a field that is too long, not UTF-8,
    or holds a control character other than a line break."""
    try:
        body = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("a form's fields must be UTF-8") from None
    fields = {}
    for key, values in parse_qs(body, keep_blank_values=True).items():
        value = values[0]
        if len(value) > MAX_FORM_FIELD or len(key) > 100:
            raise invalid(f"a form field holds at most {MAX_FORM_FIELD} characters")
        try:
            text_lines(key), text_lines(value)
        except ValueError as error:
            raise invalid(str(error)) from None
        fields[key] = value if key in raw else value.strip()
    return fields
