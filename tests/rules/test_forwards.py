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
