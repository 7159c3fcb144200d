"""Block-explorer CSV exports: Tronscan / OKLink (TRON) and Etherscan and its clones (EVM).

Header variants are those of ../shared/reference/explorer_exports/HEADERS.md. Values are decimal token units.
Failed or unconfirmed transfers are not loaded: they are quarantined with a status reason and counted.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from itertools import islice
from pathlib import Path
from typing import Iterator

import polars as pl

from transforms import ids
from transforms.errors import ScamtraceError
from transforms.sources.base import (
    CsvLayout,
    ReadContext,
    Reader,
    cell as c,
    collect_errors,
    csv_chunks,
    csv_raw_records,
    first_line_fields,
    if_well_formed as valid,
    invalid_row_error,
    parse_error,
    raw_where_refused,
    required_error,
    sha256_file,
)
from transforms.sources.fields import decimal_problem, decimal_text, timestamp_utc

FAILED = "status: transfer failed or unconfirmed on chain; not a movement of value"
TRON_TIMES = ["%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S%.fZ"]
# Token-contract exports carry no symbol: the contract, taken from the file name, names the token.
KNOWN_CONTRACTS = {
    "0xdac17f958d2ee523a2206206994597c13d831ec7": "USDT",
    "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": "USDC",
    "0x6b175474e89094c44da98b954eedeac495271d0f": "DAI",
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t": "USDT",
    "TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8": "USDC",
}



class ExplorerReader(Reader):
    """Common flow: read the CSV, let the subclass map columns to the transfer fields, build the rows."""

    table = "transactions"
    priority = 60
    chain = ""
    signature: tuple[str, ...] = ()  # header fields that identify the variant (case-sensitive)
    absent: tuple[str, ...] = ()

    def detect(self, path: Path, head: str, ctx: ReadContext) -> bool:
        fields = set(first_line_fields(head))
        return set(self.signature) <= fields and not (set(self.absent) & fields)

    reads_ahead = True  # an export holds a few dozen rows: building and running the expressions costs per file

    def read(self, path: Path, ctx: ReadContext) -> Iterator[pl.DataFrame]:
        ahead = ctx.ahead.pop((str(path), sha256_file(path)), None) if ctx.ahead else None
        frames = [ahead] if ahead is not None else (
            raw_where_refused(self.convert(frame, header, path), frame, header) for header, frame in csv_chunks(path, CsvLayout()))
        failed = 0
        for out in frames:
            failed += out.filter(pl.col("errors").list.contains(FAILED)).height
            yield out
        if failed:
            ctx.notes.append(f"{failed} failed/unconfirmed transfer(s) not loaded (quarantined with status reason)")

    def read_ahead(self, paths: list[Path], ctx: ReadContext) -> None:
        """The exports' rows converted together per header (and file-name part), then split by file: the
        same rows as file by file (every expression is per row), for a fraction of the cost."""
        read: dict[tuple, list[tuple[tuple[str, str], list[str], pl.DataFrame]]] = {}
        for path in paths:
            try:
                identity = (str(path), sha256_file(path))
                chunks = list(islice(csv_chunks(path, CsvLayout()), 2))
                same = sha256_file(path) == identity[1]  # not rewritten while it was read
            except (ScamtraceError, OSError):
                continue  # read() reads it alone and says what is wrong
            if same and len(chunks) == 1 and chunks[0][1].height:
                header, frame = chunks[0]
                shape = (tuple(header), tuple(frame.schema.items()), self.path_key(path))
                read.setdefault(shape, []).append((identity, header, frame))
        for files in read.values():
            _, header, _ = files[0]
            rows = pl.concat([frame.with_columns(pl.lit(i, dtype=pl.Int32).alias("_file"))
                              for i, (_, _, frame) in enumerate(files)])
            out = self._convert(rows, header, Path(files[0][0][0]), keep=("_file",))
            parts = out.partition_by("_file", as_dict=True, include_key=False, maintain_order=True)
            for i, (identity, header, frame) in enumerate(files):
                ctx.ahead[identity] = raw_where_refused(parts[(i,)], frame, header)

    def raw_records(self, path: Path, ctx: ReadContext, row_nos: set[int]) -> dict[int, str]:
        return csv_raw_records(path, CsvLayout(), row_nos)

    @abstractmethod
    def fields(self, header: list[str], path: Path) -> dict[str, pl.Expr]:
        """Expressions for: hash, block, time_raw, time, from, to, value, symbol, contract, ok."""

    def path_key(self, path: Path) -> str:
        """What of the file's name its fields depend on (nothing, unless a variant reads the name)."""
        return ""

    def convert(self, frame: pl.DataFrame, header: list[str], path: Path) -> pl.DataFrame:
        return self._convert(frame, header, path)

    def _convert(self, frame: pl.DataFrame, header: list[str], path: Path, keep: tuple[str, ...] = ()) -> pl.DataFrame:
        parsed, columns = self._expressions(header, path)
        return frame.lazy().with_columns(**parsed).select([*columns, *map(pl.col, keep)]).collect()

    def _expressions(self, header: list[str], path: Path) -> tuple[dict[str, pl.Expr], list[pl.Expr]]:
        """Building the expressions costs more than running them on a file of a few rows (thousands of such files
        in a year of exports): built once per reader, header and what the name contributes."""
        key = (type(self).__name__, self.chain, tuple(header), self.path_key(path))
        exprs = _EXPRESSIONS.get(key)
        if exprs is None:
            if len(_EXPRESSIONS) > 1000:
                _EXPRESSIONS.clear()
            exprs = _EXPRESSIONS[key] = self.expressions(header, path)
        return exprs

    def expressions(self, header: list[str], path: Path) -> tuple[dict[str, pl.Expr], list[pl.Expr]]:
        """The parses every column reads (addresses, amount, time, token), as columns computed once (polars would
        compute a shared expression again at each use), and the canonical columns made from them."""
        f = self.fields(header, path)
        contract = f["contract"]
        tx_hash = f["hash"].str.strip_chars()
        if self.chain in ids.EVM_CHAINS:
            contract = contract.str.to_lowercase()
            tx_hash = tx_hash.str.to_lowercase()
        parsed = {"_from": ids.crypto_account_id(self.chain, f["from"]), "_to": ids.crypto_account_id(self.chain, f["to"]),
                  "_amount": decimal_text(f["value"], ".", ","), "_symbol": f["symbol"].str.strip_chars().str.to_uppercase(),
                  "_contract": contract, "_hash": tx_hash, "_time": f["time"]}
        frm, to, amount, symbol, contract, tx_hash, time = map(pl.col, parsed)
        return parsed, [
            pl.col("row_no"),
            pl.lit(None, dtype=pl.Utf8).alias("raw"),  # raw_where_refused fills it where needed
            collect_errors(
                invalid_row_error(len(header)),
                valid(required_error(f["hash"], "tx_hash")),
                valid(required_error(f["from"], "from")),
                valid(required_error(f["to"], "to")),
                valid(parse_error(f["time_raw"], time, "time: not an explorer timestamp")),
                valid(decimal_problem(f["value"], amount, "value")),
                valid(pl.when(amount.str.starts_with("-")).then(pl.lit("value: negative"))),
                valid(pl.when(~f["ok"]).then(pl.lit(FAILED))),
                valid(pl.when(symbol.is_null()).then(pl.lit("symbol: unknown token; name the file export-token-<contract>.csv or use the token-transfer export"))),
            ),
            ids.txn_key_crypto(self.chain, tx_hash, frm, to, amount, pl.coalesce([contract, symbol])).alias("txn_key"),
            tx_hash.alias("source_txn_id"),
            pl.lit("crypto").alias("rail"),
            time.alias("booked_at"),
            frm.alias("from_account_id"),
            to.alias("to_account_id"),
            amount.alias("amount"),
            symbol.alias("currency"),
            pl.lit("onchain").alias("channel"),
            pl.lit(self.chain).alias("chain"),
            tx_hash.alias("tx_hash"),
            f["block"].cast(pl.Int64, strict=False).alias("block_number"),
            contract.alias("token_contract"),
        ]


_EXPRESSIONS: dict[tuple[str, str, tuple[str, ...], str], tuple[dict[str, pl.Expr], list[pl.Expr]]] = {}


def _truthy(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.to_lowercase().is_in(["true", "1", "yes", "confirmed", "success"])


class TronscanTokenTransfers(ExplorerReader):
    name = "tronscan_trc20"
    chain = "tron"
    signature = ("Tx Hash", "blockHeight", "from", "to", "value", "symbol", "tokenAddress")

    def fields(self, header, path):
        if "blockTime(UTC)" in header:
            time_raw = c("blockTime(UTC)")
            time = timestamp_utc(time_raw, TRON_TIMES, "UTC")
        else:
            time_raw = c("blockTime(UTC+8)")
            time = timestamp_utc(time_raw, TRON_TIMES, "Etc/GMT-8")
        ok = _truthy(c("isConfirm")) if "isConfirm" in header else pl.lit(True)  # OKLink lists confirmed only
        return {
            "hash": c("Tx Hash"), "block": c("blockHeight"), "time_raw": time_raw, "time": time,
            "from": c("from"), "to": c("to"), "value": c("value"), "symbol": c("symbol"),
            "contract": c("tokenAddress"), "ok": ok.fill_null(False),
        }


class TronscanTransactions(ExplorerReader):
    name = "tronscan_transactions"
    chain = "tron"
    signature = ("Tx Hash", "blockHeight", "from", "to", "value", "status")
    absent = ("tokenAddress",)

    def fields(self, header, path):
        time_raw = c("blockTime(UTC)") if "blockTime(UTC)" in header else c("blockTime(UTC+8)")
        tz = "UTC" if "blockTime(UTC)" in header else "Etc/GMT-8"
        symbol = c("symbol") if "symbol" in header else pl.lit("TRX")
        return {
            "hash": c("Tx Hash"), "block": c("blockHeight"), "time_raw": time_raw,
            "time": timestamp_utc(time_raw, TRON_TIMES, tz), "from": c("from"), "to": c("to"),
            "value": c("value"), "symbol": symbol, "contract": pl.lit(None, dtype=pl.Utf8),
            "ok": (c("status").str.to_uppercase().is_in(["SUCCESS", "CONFIRMED"])).fill_null(False),
        }


def _evm_time(header: list[str]) -> tuple[pl.Expr, pl.Expr]:
    if "UnixTimestamp" in header:
        raw = c("UnixTimestamp")
        secs = raw.cast(pl.Int64, strict=False)
        return raw, pl.from_epoch(secs, time_unit="s").dt.replace_time_zone("UTC")
    raw = c("DateTime (UTC)") if "DateTime (UTC)" in header else c("DateTime")
    return raw, timestamp_utc(raw, ["%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S%.fZ"], "UTC")


def _hash_col(header: list[str]) -> pl.Expr:
    return c("Transaction Hash") if "Transaction Hash" in header else c("Txhash")


def _evm_ok(header: list[str]) -> pl.Expr:
    ok = pl.lit(True)
    if "ErrCode" in header:
        ok = ok & c("ErrCode").is_null()
    if "Status" in header:
        ok = ok & ~c("Status").fill_null("").str.to_lowercase().str.contains("error|fail")
    return ok


class EtherscanTokenTransfers(ExplorerReader):
    name = "etherscan_erc20"
    chain = "ethereum"
    signature = ("Blockno", "From", "To", "TokenValue")

    def fields(self, header, path):
        raw, time = _evm_time(header)
        symbol = c("TokenSymbol") if "TokenSymbol" in header else pl.lit(None, dtype=pl.Utf8)
        return {
            "hash": _hash_col(header), "block": c("Blockno"), "time_raw": raw, "time": time,
            "from": c("From"), "to": c("To"), "value": c("TokenValue"), "symbol": symbol,
            "contract": c("ContractAddress") if "ContractAddress" in header else pl.lit(None, dtype=pl.Utf8),
            "ok": _evm_ok(header),
        }


class EtherscanTokenContract(ExplorerReader):
    """Export from a token's own page: no symbol column; the contract comes from the file name."""

    name = "etherscan_token_contract"
    chain = "ethereum"
    signature = ("Blockno", "From", "To", "Quantity")

    def path_key(self, path):
        m = re.search(r"(0x[0-9a-fA-F]{40})", path.name)
        return m.group(1).lower() if m else ""

    def fields(self, header, path):
        raw, time = _evm_time(header)
        contract = self.path_key(path) or None
        return {
            "hash": _hash_col(header), "block": c("Blockno"), "time_raw": raw, "time": time,
            "from": c("From"), "to": c("To"), "value": c("Quantity"),
            "symbol": pl.lit(KNOWN_CONTRACTS.get(contract or ""), dtype=pl.Utf8),
            "contract": pl.lit(contract, dtype=pl.Utf8), "ok": _evm_ok(header),
        }


class EtherscanNormal(ExplorerReader):
    """Normal transactions of an address: native ETH moved in or out."""

    name = "etherscan_normal"
    chain = "ethereum"
    signature = ("Blockno", "From", "To", "Value_IN(ETH)", "Value_OUT(ETH)")
    absent = ("ParentTxFrom",)

    def fields(self, header, path):
        raw, time = _evm_time(header)
        v_in, v_out = c("Value_IN(ETH)"), c("Value_OUT(ETH)")
        nonzero_in = v_in.is_not_null() & v_in.str.contains(r"[1-9]")
        value = pl.when(nonzero_in).then(v_in).otherwise(v_out)
        return {
            "hash": _hash_col(header), "block": c("Blockno"), "time_raw": raw, "time": time,
            "from": c("From"), "to": c("To"), "value": value, "symbol": pl.lit("ETH"),
            "contract": pl.lit(None, dtype=pl.Utf8), "ok": _evm_ok(header),
        }


class EtherscanInternal(ExplorerReader):
    name = "etherscan_internal"
    chain = "ethereum"
    signature = ("Blockno", "ParentTxFrom", "From", "TxTo")

    def fields(self, header, path):
        raw, time = _evm_time(header)
        v_in, v_out = c("Value_IN(ETH)"), c("Value_OUT(ETH)")
        nonzero_in = v_in.is_not_null() & v_in.str.contains(r"[1-9]")
        return {
            "hash": _hash_col(header), "block": c("Blockno"), "time_raw": raw, "time": time,
            "from": c("From"), "to": c("TxTo"), "value": pl.when(nonzero_in).then(v_in).otherwise(v_out),
            "symbol": pl.lit("ETH"), "contract": pl.lit(None, dtype=pl.Utf8), "ok": _evm_ok(header),
        }


READERS = [
    TronscanTokenTransfers(),
    TronscanTransactions(),
    EtherscanTokenTransfers(),
    EtherscanTokenContract(),
    EtherscanNormal(),
    EtherscanInternal(),
]
