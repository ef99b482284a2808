"""Merkle trees over a day's journal entries, as RFC 6962 (Certificate Transparency)
defines them, and the chain of daily roots. Pure: no I/O.

A leaf is an entry's hash (32 bytes, given here as 64 hex digits). Leaves and inner
nodes are hashed with different one-byte prefixes, so that no inner node can pass for
a leaf (the second-preimage attack on plain Merkle trees):

    leaf hash = SHA-256(0x00 || entry hash bytes)
    node hash = SHA-256(0x01 || left || right)

A tree of n > 1 leaves splits at k, the largest power of two below n: the left subtree
holds the first k leaves, the right one the rest. The empty tree's hash is SHA-256 of
nothing. A day's root is chained to the previous published day's with a third prefix:

    chained = SHA-256(0x02 || previous chained root (32 zero bytes for the first day)
                      || day as ASCII YYYY-MM-DD || tree size (8 bytes, big-endian)
                      || merkle root)

docs/verifiable-giving.md gives the same rules with a test vector.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

LEAF, NODE, CHAIN = b"\x00", b"\x01", b"\x02"
NO_PREVIOUS = bytes(32)


class ProofError(ValueError):
    """A proof that is malformed on its face (wrong sizes, index out of range)."""


def _bytes(hex_digest: str) -> bytes:
    try:
        raw = bytes.fromhex(hex_digest)
    except (TypeError, ValueError) as exc:
        raise ProofError(f"not a hex SHA-256 digest: {hex_digest!r}") from exc
    if len(raw) != 32:
        raise ProofError(f"a SHA-256 digest has 32 bytes, not {len(raw)}")
    return raw


def leaf_hash(entry_hash: str) -> bytes:
    return hashlib.sha256(LEAF + _bytes(entry_hash)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _root(hashes: Sequence[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(_root(hashes[:k]), _root(hashes[k:]))


def merkle_root(entry_hashes: Sequence[str]) -> str:
    """The tree hash of the entries, in sequence order, as hex."""
    if not entry_hashes:
        return hashlib.sha256(b"").hexdigest()
    return _root([leaf_hash(h) for h in entry_hashes]).hex()


def audit_path(index: int, entry_hashes: Sequence[str]) -> list[str]:
    """The sibling hashes from the leaf at `index` up to the root, leaf side first."""
    if not 0 <= index < len(entry_hashes):
        raise ProofError(f"leaf {index} is outside a tree of {len(entry_hashes)}")
    path: list[bytes] = []
    hashes = [leaf_hash(h) for h in entry_hashes]
    # Walk down from the root, collecting the other side at each split; the list is
    # then read bottom-up, as RFC 6962's PATH(m, D[n]) is.
    while len(hashes) > 1:
        k = _split(len(hashes))
        if index < k:
            path.append(_root(hashes[k:]))
            hashes = hashes[:k]
        else:
            path.append(_root(hashes[:k]))
            hashes = hashes[k:]
            index -= k
    return [h.hex() for h in reversed(path)]


def root_from_path(entry_hash: str, index: int, tree_size: int, path: Sequence[str]) -> str:
    """The root that the leaf and its audit path lead to (RFC 9162, 2.1.3.2)."""
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf {index} is outside a tree of {tree_size}")
    fn, sn = index, tree_size - 1
    r = leaf_hash(entry_hash)
    for sibling in path:
        p = _bytes(sibling)
        if sn == 0:
            raise ProofError("the audit path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the audit path is shorter than the tree is deep")
    return r.hex()


def verify_inclusion(
    entry_hash: str, index: int, tree_size: int, path: Sequence[str], root: str
) -> bool:
    try:
        return root_from_path(entry_hash, index, tree_size, path) == root.lower()
    except ProofError:
        return False


def chain_root(previous: str | None, day: date, tree_size: int, merkle: str) -> str:
    """A day's published root: its tree's root bound to the previous day's."""
    before = NO_PREVIOUS if previous is None else _bytes(previous)
    return hashlib.sha256(
        CHAIN
        + before
        + day.isoformat().encode("ascii")
        + tree_size.to_bytes(8, "big")
        + _bytes(merkle)
    ).hexdigest()
