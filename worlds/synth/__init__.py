"""Synthetic scam-economy world with truth labels (`scamtrace synth`; docs/synth.md).

generate_world(out_dir, seed=7, scale="sample", fmt="extracts") writes
  bank/<bank>_<yyyy-mm>.<ext> + bank/<bank>.mapping.yml   delimited statement extracts, one layout per bank
  crypto/TRON-tokenTransfer-<address>--<stamp>.csv        Tronscan TRC-20 exports, one per investigated address
  crypto/export-tokentx-<address>.csv                     Etherscan ERC-20 exports
  kyc/parties.csv, kyc/accounts.csv, events/events.csv, reference/fx_rates.csv, reference/compounds.yml
  truth/*.csv, README.md
fmt="parquet" writes the canonical transactions table directly (parquet/transactions/month=.../part-N.parquet)
instead of the bank and explorer extracts.

Generation runs day by day and streams every row to disk: memory holds the population and the planted patterns
still in flight, never the transactions. Same seed and knobs, same bytes.
"""

from worlds.synth.config import PRESETS, TYPOLOGIES, Knobs, resolve
from worlds.synth.generate import generate_world, statement_readers

__all__ = ["generate_world", "statement_readers", "PRESETS", "TYPOLOGIES", "Knobs", "resolve"]
