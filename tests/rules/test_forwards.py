import polars as pl
import pytest

from rules.forwards import _rounding


@pytest.mark.parametrize("amount, half_unit", [
    (1234.56, 0.005), (1234.0, 0.5), (2000.0, 500.0), (1111.111102, 5e-7),
    (500.000001, 5e-7),            # nearly round is not round: the last digit counts
    (702.0150437425508, 5e-9),     # full float precision: the finest rounding looked for
    (1000000.000001, 5e-7), (12345678.000001, 5e-7), (123.4500000001, 5e-9),   # large or long: every digit counts
])
def test_rounding_is_half_the_unit_of_the_last_non_zero_digit(amount: float, half_unit: float):
    got = pl.DataFrame({"a": [amount]}).select(_rounding(pl.col("a")))["literal"][0]
    assert got == pytest.approx(half_unit, rel=1e-9)


def _hits(world, run_id: str) -> list[tuple]:
    return world.con.execute(
        "SELECT rule_id, subject_id, measured_value, txn_ids, member_ids FROM rule_hits WHERE run_id = ?"
        " ORDER BY ALL", [run_id]).fetchall()


def _chain(world) -> None:
    """A chain keeping 90 % at each hop (same_cut) on token amounts (round_cut), among unrelated traffic."""
    world.txn("A", "B", 1234.567891, 0)
    world.txn("B", "C", 1111.111102, 72)     # 90 % to the token's precision
    world.txn("C", "D", 999.999992, 190)     # and again
    for i in range(20):
        world.txn(f"P{i}", f"F{i}", 300 + 7 * i, i)
        world.txn(f"F{i}", f"Q{i}", 200 + 3 * i, i + 48)


def test_same_cut_and_round_cut_build_the_forwards_once_per_run(world, monkeypatch):
    """Both rules read the same forwards: with the same settings one run builds them once, and each rule's hits
    are those it finds alone."""
    import rules.forwards as forwards
    from rules.engine import detect

    _chain(world)
    alone = []
    for rule_id in ("round_cut", "same_cut"):
        alone += _hits(world, detect(world.con, only=[rule_id]).run_id)
    assert {r[0] for r in alone} == {"round_cut", "same_cut"}   # both find the chain

    built = []
    real = forwards._find
    monkeypatch.setattr(forwards, "_find", lambda con, params: built.append(1) or real(con, params))
    together = detect(world.con, only=["round_cut", "same_cut"])
    assert len(built) == 1
    assert _hits(world, together.run_id) == sorted(alone)

    # other settings for one of them: the forwards differ, and are built again
    cfg = world.config({"rules": {"same_cut": {"parameters": {"max_mix": 0}}}})
    built.clear()
    detect(world.con, only=["round_cut", "same_cut"], config_path=cfg)
    assert len(built) == 2


def test_transfers_taken_by_place_come_from_the_frame_as_built():
    """The k-th debit of an account is taken by its row in _transfers' frame: a frame filtered or sorted again
    would give other transfers silently, so taking from one is refused."""
    from datetime import datetime, timezone

    from rules.forwards import _take, _transfers

    day = datetime(2026, 3, 1, tzinfo=timezone.utc)
    edges = pl.DataFrame({"rid": [1, 2, 3, 4], "src": [10, 20, 20, 20], "dst": [20, 30, 40, 50],
                          "booked_at": [day] * 4, "amount": [100.0, 40.0, 30.0, 20.0], "currency": ["EUR"] * 4,
                          "to_relay": [True, False, False, False], "from_relay": [False, True, True, True]})
    _, debits = _transfers(edges)
    assert debits["i"].to_list() == [0, 1, 2] and debits["size"].to_list() == [3, 3, 3]
    assert _take(debits, pl.Series([2, 0]))["rid"].to_list() == [4, 2]
    for other in (debits.filter(pl.col("rid") != 3), debits.sort("amount")):
        with pytest.raises(ValueError, match="not _transfers' own"):
            _take(other, pl.Series([0]))
