"""The typed rows of casework follow the table definitions column for column (rules/alert_tables.py)."""

from dataclasses import fields

from rules.alert_tables import NETWORK_EDGES, NETWORK_MEMBERS
from rules.casework.members import EdgeRow, MemberRow, PartyInfo


def test_member_row_is_the_network_members_table():
    assert [f.name for f in fields(MemberRow)] == list(NETWORK_MEMBERS.names)


def test_edge_row_is_the_network_edges_table():
    assert list(EdgeRow._fields) == list(NETWORK_EDGES.names)


def test_member_row_as_row_keeps_the_column_order():
    row = MemberRow("NW-1", "account", "A", "Ann", "mule", ["mule"], 1, 0.5, 0.25, True, ["AL-1"], 10.0, 9.0, "P1",
                    None, None, "person", "customer", "BANKTH", "TH", [])
    values = dict(zip(NETWORK_MEMBERS.names, row.as_row()))
    assert values["member_id"] == "A" and values["rank"] == 1 and values["country"] == "TH" and values["kind"] == "customer"


def test_party_contacts_are_the_known_ones():
    p = PartyInfo("P1", "legal", "Acme", "KH", None, "+85512", None, "", None)
    assert p.contacts() == {("phone", "+85512"), ("address", "")}
