"""Where accounts were used from: events inside a suspected compound, and accounts that moved into one.

Rebuilt at every detect run, before the rules (like listed_addresses), from `events`, `accounts` and the
`compounds` registry:
  - compound_events: every event whose IP lies in one of a compound's CIDRs or whose position lies within its
    radius, resolved to accounts (an event of a party reaches every account the party holds);
  - relocations: accounts used from elsewhere first (outside that compound) and then from inside it (one row per
    account and compound). A trafficked worker's own account shows this shape: opened and used at home, then logged into from
    the compound after the move. Accounts opened inside the compound (mules set up there) have no outside events
    before, and people living near a compound are inside from their first event: neither is a relocation.
The trafficking rules (recruitment_fees, controlled_accounts, worker_turned_mule) read these tables.
"""

from __future__ import annotations

import duckdb

from transforms import store

# DuckDB macros for locations (no extension needed); casework's compound links use them too.
LOCATION_MACROS = {
    # dotted IPv4 -> BIGINT, NULL for anything else (IPv6 is not matched against CIDRs; see docs/casework.md)
    "cw_ipv4": (
        "ip",
        "CASE WHEN regexp_full_match(trim(ip), '(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}') "
        "THEN CAST(split_part(trim(ip), '.', 1) AS BIGINT) * 16777216 + CAST(split_part(trim(ip), '.', 2) AS BIGINT) * 65536 "
        "+ CAST(split_part(trim(ip), '.', 3) AS BIGINT) * 256 + CAST(split_part(trim(ip), '.', 4) AS BIGINT) END",
    ),
    # great-circle distance in km
    "cw_haversine_km": (
        "lat1, lon1, lat2, lon2",
        "2 * 6371.0088 * asin(sqrt(power(sin(radians(lat2 - lat1) / 2), 2) + "
        "cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2)))",
    ),
}

# The compounds' CIDRs as integer ranges (compound_id, conf, cidr, lo, hi): casework's ip_cidr links read it too.
COMPOUND_CIDRS = """
    SELECT compound_id, conf, cidr, base - (base % CAST(pow(2, 32 - bits) AS BIGINT)) AS lo,
           base - (base % CAST(pow(2, 32 - bits) AS BIGINT)) + CAST(pow(2, 32 - bits) AS BIGINT) - 1 AS hi
    FROM (
        SELECT compound_id, conf, cidr, cw_ipv4(split_part(cidr, '/', 1)) AS base,
               coalesce(try_cast(nullif(split_part(cidr, '/', 2), '') AS INTEGER), 32) AS bits
        FROM (SELECT compound_id, coalesce(confidence, 1.0) AS conf, unnest(ip_cidrs) AS cidr
              FROM compounds WHERE ip_cidrs IS NOT NULL)
    ) WHERE base IS NOT NULL AND bits BETWEEN 0 AND 32
"""

_RESOLVED = """
    CREATE OR REPLACE TEMP TABLE _pr_events AS   -- events resolved to accounts
    SELECT ev.event_id, ev.account_id, coalesce(a.holder_id, ev.party_id) AS holder_id, ev.occurred_at, ev.kind,
           ev.ip, ev.device_id, ev.lat, ev.lon
    FROM (
        SELECT e.event_id, coalesce(e.account_id, h.account_id) AS account_id, e.party_id, e.occurred_at, e.kind,
               e.ip, e.device_id, e.lat, e.lon
        FROM events e LEFT JOIN accounts h ON e.account_id IS NULL AND h.holder_id = e.party_id
    ) ev LEFT JOIN accounts a ON a.account_id = ev.account_id
    WHERE ev.account_id IS NOT NULL
"""

_INSIDE = f"""
    INSERT INTO compound_events
    WITH cidrs AS ({COMPOUND_CIDRS}),
    areas AS (SELECT compound_id, lat, lon, radius_km FROM compounds
              WHERE lat IS NOT NULL AND lon IS NOT NULL AND radius_km > 0),
    located AS (
        SELECT e.event_id, e.account_id, c.compound_id, 'ip_cidr' AS located_by
        FROM (SELECT *, cw_ipv4(ip) AS ipn FROM _pr_events WHERE ip IS NOT NULL) e
        JOIN cidrs c ON e.ipn BETWEEN c.lo AND c.hi
        UNION ALL
        SELECT e.event_id, e.account_id, c.compound_id, 'geo_radius'
        FROM _pr_events e JOIN areas c
          ON e.lat IS NOT NULL AND e.lon IS NOT NULL AND abs(e.lat - c.lat) <= c.radius_km / 110.0 + 0.01
        WHERE cw_haversine_km(e.lat, e.lon, c.lat, c.lon) <= c.radius_km
    )
    SELECT e.event_id, e.account_id, e.holder_id, e.occurred_at, e.kind, e.ip, e.device_id, l.compound_id,
           CASE WHEN bool_or(l.located_by = 'ip_cidr') THEN 'ip_cidr' ELSE 'geo_radius' END AS located_by
    FROM located l JOIN _pr_events e ON e.event_id = l.event_id AND e.account_id = l.account_id
    GROUP BY ALL
"""

_MOVED = """
    INSERT INTO relocations
    WITH arrivals AS (
        SELECT account_id, compound_id, any_value(holder_id) AS holder_id, min(occurred_at) AS arrived_at,
               count(DISTINCT event_id) AS inside_events,
               list_sort(list_distinct(list(device_id))) AS devices_inside
        FROM compound_events GROUP BY account_id, compound_id
    ),
    outside AS (        -- the account's events before the arrival that lie outside this compound (a worker who
        SELECT a.account_id, a.compound_id, e.occurred_at   -- lived near another compound moved all the same)
        FROM arrivals a JOIN _pr_events e ON e.account_id = a.account_id AND e.occurred_at < a.arrived_at
        ANTI JOIN compound_events c ON c.event_id = e.event_id AND c.account_id = e.account_id
                                   AND c.compound_id = a.compound_id
    )
    SELECT a.account_id, a.holder_id, a.compound_id, a.arrived_at, min(o.occurred_at), max(o.occurred_at), count(*),
           a.inside_events, a.devices_inside
    FROM arrivals a JOIN outside o ON o.account_id = a.account_id AND o.compound_id = a.compound_id
    GROUP BY ALL
"""


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    for name, (args, body) in LOCATION_MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {name}({args}) AS {body}")


def refresh_presence(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Rebuild compound_events and relocations. Returns their row counts."""
    install_macros(con)
    with store.transaction(con):
        con.execute("DELETE FROM compound_events")
        con.execute("DELETE FROM relocations")
        con.execute(_RESOLVED)
        try:
            con.execute(_INSIDE)
            con.execute(_MOVED)
        finally:
            con.execute("DROP TABLE IF EXISTS _pr_events")
    counts = con.execute("SELECT (SELECT count(*) FROM compound_events), (SELECT count(*) FROM relocations)").fetchall()
    return counts[0][0], counts[0][1]
