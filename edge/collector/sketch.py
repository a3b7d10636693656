"""A year's count of distinct members without keeping who came: a HyperLogLog sketch over keyed hashes.

Access records expire after 90 days, so the number of different members over a year cannot be counted from them
in December. The collector adds every member of every day to the year's sketch before that day's records
expire. The sketch is 2^9 = 512 one-byte registers; a member's pseudonymous id is hashed with HMAC-SHA-256
under a random key of that year, the first 9 bits of the hash pick a register, and the register keeps the
largest "rank" (position of the first 1 bit in the rest) it has seen. The number of members is estimated from
the registers (Flajolet et al. 2007, with linear counting for small counts, as in HyperLogLog++).

Why keyed, and why the key is destroyed: without the key, nobody (neither a funder, nor someone who holds a
member's id and the registers) can compute where that member would land, so the registers say nothing about any
member. With the key, a register can be tested (a member can be said not to have come, or possibly to have come:
cardinality sketches leak membership, Desfontaines et al. 2019), so the key lives only in the collector's key
folder, never in the store, InfluxDB or a backup of the store, and is destroyed (overwritten, unlinked) when the
year closes, together with the registers: only the count stays. docs/data-model.md gives the full argument.

Pure: no I/O (the caller keeps the key and the registers).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass

PRECISION = 9
REGISTERS = 1 << PRECISION
HASH_BITS = 64
KEY_BYTES = 32


def keyed_hash(key: bytes, member: str) -> int:
    """The 64-bit keyed hash of a member's pseudonymous id (HMAC-SHA-256 under the year's key)."""
    return int.from_bytes(hmac.new(key, member.encode(), hashlib.sha256).digest()[:8], "big")


def register_of(hashed: int) -> tuple[int, int]:
    """(register index, rank): the first PRECISION bits, and 1 + the leading zeros of the remaining bits."""
    index = hashed >> (HASH_BITS - PRECISION)
    rest = hashed & ((1 << (HASH_BITS - PRECISION)) - 1)
    rank = (HASH_BITS - PRECISION) - rest.bit_length() + 1
    return index, rank


@dataclass(frozen=True)
class Estimate:
    """A distinct count and its standard error (one standard deviation), both rounded to whole members."""

    value: int
    error: int


class Sketch:
    """The registers of one year's sketch."""

    def __init__(self, registers: bytes | None = None) -> None:
        if registers is not None and len(registers) != REGISTERS:
            raise ValueError(f"a sketch has {REGISTERS} registers, not {len(registers)}")
        self.registers = bytearray(registers if registers is not None else REGISTERS)

    def add(self, hashed: int) -> bool:
        """Count a hashed member in; True when a register changed."""
        index, rank = register_of(hashed)
        if rank > self.registers[index]:
            self.registers[index] = rank
            return True
        return False

    def estimate(self) -> Estimate:
        """The distinct members added, estimated, with its standard error."""
        m = REGISTERS
        zeros = self.registers.count(0)
        alpha = 0.7213 / (1 + 1.079 / m)
        raw = alpha * m * m / sum(2.0**-r for r in self.registers)
        if raw <= 2.5 * m and zeros:
            # linear counting: exact-ish for small counts; error from its variance m(e^t - t - 1), t = n/m
            value = m * math.log(m / zeros)
            t = value / m
            error = math.sqrt(m * (math.exp(t) - t - 1))
        else:
            value = raw
            error = 1.04 / math.sqrt(m) * raw
        return Estimate(round(value), round(error))
