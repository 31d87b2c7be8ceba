"""``etapalvelu sites ptv SITE`` prints one PTV service location channel that holds what the
catalogue's open API v11 requires of one (``V11VmOpenApiServiceLocationChannelIn`` of
vrk-kpa/ptv-releases and the classes it names), with the hours the platform books by: the
regular week, and the public holidays and the building's exceptions as exceptional days."""
from __future__ import annotations

import json

import jsonschema
from click.testing import CliRunner

from etapalvelu.cli import cli
from tests.points.conftest import NEW_YEARS_EVE

_LOCALIZED = {"type": "object", "required": ["language", "value"],
              "properties": {"language": {"enum": ["fi", "sv", "en"]},
                             "value": {"type": "string", "minLength": 1}}}
_TIME = {"type": "string", "pattern": r"^([0-1][0-9]|[2][0-3]):(00|15|30|45)(:00)?$"}
_WEEKDAY = {"enum": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                     "Sunday"]}
# the required fields and allowed values of the model, written out from its C# attributes
# ([Required], [ListRequired], [ListWithPropertyValueRequired], [AllowedValues], [ValidEnum],
# ValidationConsts): an independent check, not the exporter's own
SERVICE_LOCATION_V11 = {
    "type": "object",
    "required": ["organizationId", "serviceChannelNames", "serviceChannelDescriptions",
                 "displayNameType", "languages", "addresses", "publishingStatus"],
    "properties": {
        "organizationId": {"type": "string", "pattern": r"^[0-9a-f-]{36}$"},
        "sourceId": {"type": "string", "pattern": r"^[A-Za-z0-9-.]*$"},
        "serviceChannelNames": {"type": "array", "minItems": 1, "contains": {
            "properties": {"type": {"const": "Name"}}}, "items": {
            "allOf": [_LOCALIZED, {"properties": {"type": {"enum": ["Name", "AlternativeName"]}}}]}},
        "serviceChannelDescriptions": {"type": "array", "allOf": [
            {"contains": {"properties": {"type": {"const": "Summary"}}}},
            {"contains": {"properties": {"type": {"const": "Description"}}}}],
            "items": {"allOf": [_LOCALIZED, {"properties": {
                "type": {"enum": ["Description", "Summary"]}}}]}},
        "displayNameType": {"type": "array", "minItems": 1},
        "areaType": {"enum": ["Nationwide", "NationwideExceptAlandIslands", "LimitedType"]},
        "languages": {"type": "array", "minItems": 1,
                      "items": {"type": "string", "pattern": "^[a-z-]*$"}},
        "addresses": {"type": "array", "minItems": 1, "contains": {
            "properties": {"type": {"const": "Location"}}}, "items": {
            "type": "object", "required": ["type", "subType", "streetAddress"], "properties": {
                "type": {"enum": ["Location", "Postal"]},
                "subType": {"enum": ["Single", "Street", "PostOfficeBox", "Abroad", "Other"]},
                "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "streetAddress": {"type": "object",
                                  "required": ["street", "postalCode", "municipality"],
                                  "properties": {
                                      "street": {"type": "array", "minItems": 1,
                                                 "items": _LOCALIZED},
                                      "postalCode": {"pattern": r"^\d{5}$"},
                                      "municipality": {"pattern": r"^[0-9]{1,3}$"}}}}}},
        "phoneNumbers": {"type": "array", "items": {
            "type": "object", "required": ["number", "language"], "properties": {
                "number": {"type": "string", "minLength": 1, "maxLength": 20},
                "serviceChargeType": {"enum": ["Chargeable", "FreeOfCharge", "Other"]}}}},
        "serviceHours": {"type": "array", "items": {
            "type": "object", "required": ["serviceHourType"], "properties": {
                "serviceHourType": {"enum": ["DaysOfTheWeek", "Exceptional", "OverMidnight"]},
                "additionalInformation": {"type": "array", "items": {
                    "allOf": [_LOCALIZED, {"properties": {"value": {"maxLength": 100}}}]}},
                "openingHour": {"type": "array", "items": {
                    "type": "object", "required": ["from", "to"],
                    "properties": {"from": _TIME, "to": _TIME, "dayFrom": _WEEKDAY}}}}}},
        "publishingStatus": {"enum": ["Draft", "Published"]},
    },
}


def ptv_document(database_url: str, site: str = "porvoo") -> dict:
    """What the command prints for ``site``, its four weeks from Monday 14.12.2026."""
    result = CliRunner().invoke(cli, ["sites", "ptv", site, "--from", "2026-12-14"],
                                env={"ETP_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_ptv_export_holds_every_field_the_catalogue_requires(app, database_url):
    for site in ("porvoo", "imatra", "nurmes"):
        jsonschema.validate(ptv_document(database_url, site), SERVICE_LOCATION_V11)


def test_the_ptv_export_names_porvoo_in_swedish_and_its_exceptional_days(app, database_url):
    document = ptv_document(database_url)
    names = {n["language"]: n["value"] for n in document["serviceChannelNames"]}
    assert names == {"fi": "Porvoo-info", "sv": "Borgå-info", "en": "Porvoo Info"}
    standard, *exceptional = document["serviceHours"]
    assert standard["serviceHourType"] == "DaysOfTheWeek" and standard["validForNow"]
    assert {(o["dayFrom"], o["from"], o["to"]) for o in standard["openingHour"]} == {
        (day, "09:00", "15:00") for day in ("Monday", "Tuesday", "Wednesday", "Thursday",
                                            "Friday")}
    by_day = {e["validFrom"][:10]: e for e in exceptional}
    assert all(e["serviceHourType"] == "Exceptional" for e in exceptional)
    for holiday in ("2026-12-24", "2026-12-25", "2027-01-01", "2027-01-06"):
        assert by_day[holiday]["isClosed"] and by_day[holiday]["openingHour"] == []
    julafton = {i["language"]: i["value"] for i in by_day["2026-12-24"]["additionalInformation"]}
    assert julafton == {"fi": "Jouluaatto", "sv": "Julafton", "en": "Christmas Eve"}
    new_years_eve = by_day[NEW_YEARS_EVE.isoformat()]
    assert not new_years_eve["isClosed"]
    assert [(o["from"], o["to"]) for o in new_years_eve["openingHour"]] == [("09:00", "12:00")]
    assert "2026-12-23" not in by_day  # an ordinary day is the regular week's


def test_an_unknown_site_is_refused_by_the_command(app, database_url):
    result = CliRunner().invoke(cli, ["sites", "ptv", "nowhere"],
                                env={"ETP_DATABASE_URL": database_url})
    assert result.exit_code == 2 and "porvoo" in result.output
