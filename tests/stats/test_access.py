"""Who reads which statistics, written out independently of the rule table: every role against
sites and authorities, and the new coordinator role reads statistics and nothing else."""
from __future__ import annotations

import pytest

from cloud.accounts.access import RULES, Principal, may

PEOPLE = {
    "advisor": Principal("adv", "advisor", "porvoo", frozenset({"porvoo"})),
    "expert": Principal("exp", "expert", "kela"),
    "phone_agent": Principal("tel", "phone_agent", "kela"),
    "support": Principal("sup", "support", "supplier"),
    "coordinator": Principal("coord", "coordinator"),
    "admin": Principal("adm", "admin"),
}
# (role, site, authority) -> may read; the question names a site, an authority, or both
MATRIX = {
    ("advisor", "porvoo", None): True, ("advisor", "imatra", None): False,
    ("advisor", None, "kela"): False,
    ("expert", None, "kela"): True, ("expert", None, "vero"): False,
    ("expert", "porvoo", None): False,
    ("phone_agent", None, "kela"): True, ("phone_agent", None, "vero"): False,
    ("support", "porvoo", None): False, ("support", None, "kela"): False,
    ("coordinator", "porvoo", None): True, ("coordinator", "imatra", "vero"): True,
    ("coordinator", None, None): True,
    ("admin", "nurmes", None): True, ("admin", None, None): True,
}


@pytest.mark.parametrize(("role", "site", "authority"), MATRIX)
def test_each_role_reads_the_statistics_of_its_own_scope_only(role, site, authority):
    assert may(PEOPLE[role], "stats.read", site=site, authority=authority) == \
        MATRIX[role, site, authority]


def test_a_coordinator_may_read_statistics_and_the_catalogue_and_nothing_else():
    allowed = {action for action in RULES
               if may(PEOPLE["coordinator"], action, site="porvoo", authority="kela",
                      party="supplier")}
    assert allowed == {"stats.read", "catalogue.read"}
