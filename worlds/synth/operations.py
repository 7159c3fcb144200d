"""A scam operation's cast (organiser, legal persons, consolidator, OTC desk, compound wallets) and the names and
payment references the planted patterns use."""

from __future__ import annotations

from dataclasses import dataclass, field

from worlds.synth.model import Account
from worlds.synth.world import Compound


@dataclass
class Op:
    k: int
    compound: Compound
    organiser: Account
    shell: Account
    casino: Account
    consolidator: Account
    otc_bank: Account
    otc_wallet: Account
    wallet_listed: Account
    wallet_hidden: Account
    wallet_eth: Account
    wallet_eth_listed: Account
    companies: list = field(default_factory=list)
    takings: float = 0.0  # USD the consolidator collected since it last paid the organiser


REFS_VICTIM = ("INVESTMENT", "DEPOSIT", "TOP UP", "GIFT", "LOAN", "PLATFORM FEE", "ORDER 88", "VIP UPGRADE")


def company_names(k: int) -> list[str]:
    """Distinct names per operation (a registry's company names must not collide across compounds)."""
    a = ("Heng Li", "Jin Sheng", "Fu Xing", "Long Wei", "Tian Yu", "Hong Fa", "Wan Tong", "Da Cheng", "Xin Hua Tai")
    b = ("Golden Lotus", "Royal Dragon", "Lucky Star", "Jade Palace", "Phoenix Bay", "Emerald Tiger", "Silver Moon")
    c = ("Mekong Swift", "Angkor Quick", "Riverside", "Harbour Star", "Bayon", "Tonle Bridge")
    suffix = "" if k < len(a) * len(b) else f" {k}"
    return [f"{a[k % len(a)]}{suffix} Trading Co., Ltd.", f"{b[(k // len(a) + k) % len(b)]}{suffix} Entertainment Ltd.",
            f"{c[k % len(c)]}{'' if k < len(c) else ' ' + str(k)} Exchange Service Co., Ltd."]
