"""Shared set-up of the trafficking rule tests: a compound with an IP range, and accounts whose holders move
into it (used from a home network first, then from inside the compound)."""

from __future__ import annotations

from tests.rules.conftest import World

CIDR = "203.0.113.0/25"
INSIDE_IP = "203.0.113.7"
HOME_IP = "100.64.0.9"
DAY = 24


def compound(world: World) -> None:
    world.compound("kk_park", ip_cidrs=[CIDR])


def move(world: World, account: str, arrive_hours: float, *, device: str | None = None, home_hours: float | None = None,
         holder: str | None = None) -> None:
    """The account's holder opened it at home 200 days before, used it from home, then from inside the compound."""
    world.account(account, holder_id=holder or f"p-{account}")
    world.event(account, arrive_hours - 200 * DAY, kind="account_opening", ip=HOME_IP, device_id=f"home-{account}")
    world.event(account, arrive_hours - 20 * DAY if home_hours is None else home_hours, ip=HOME_IP,
                device_id=f"home-{account}")
    world.event(account, arrive_hours, ip=INSIDE_IP, device_id=device or f"own-{account}")
