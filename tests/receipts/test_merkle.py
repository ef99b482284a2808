"""RFC 6962 trees, audit paths and the chain of daily roots (pure)."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ledger.merkle import (
    audit_path,
    chain_root,
    leaf_hash,
    merkle_root,
    node_hash,
    root_from_path,
    verify_inclusion,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "verifiable-giving.md"
digests = st.binary(min_size=32, max_size=32).map(bytes.hex)
trees = st.lists(digests, min_size=1, max_size=40)


def h(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def test_small_trees_split_as_rfc_6962_says():
    e = [h(str(i)) for i in range(5)]
    lf = [leaf_hash(x) for x in e]
    assert merkle_root(e[:1]) == lf[0].hex()
    assert merkle_root(e[:3]) == node_hash(node_hash(lf[0], lf[1]), lf[2]).hex()
    four = node_hash(node_hash(lf[0], lf[1]), node_hash(lf[2], lf[3]))
    assert merkle_root(e[:5]) == node_hash(four, lf[4]).hex()
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()
    # Domain separation: a leaf is never hashed like a pair of nodes.
    assert leaf_hash(e[0]) == hashlib.sha256(b"\x00" + bytes.fromhex(e[0])).digest()


@given(trees, st.data())
def test_every_leaf_proves_against_the_root(leaves, data):
    index = data.draw(st.integers(0, len(leaves) - 1))
    root = merkle_root(leaves)
    path = audit_path(index, leaves)
    assert root_from_path(leaves[index], index, len(leaves), path) == root
    assert verify_inclusion(leaves[index], index, len(leaves), path, root)


@given(trees, st.data())
def test_any_change_breaks_the_proof(leaves, data):
    index = data.draw(st.integers(0, len(leaves) - 1))
    root = merkle_root(leaves)
    path = audit_path(index, leaves)
    other = data.draw(digests.filter(lambda d: d != leaves[index]))
    assert not verify_inclusion(other, index, len(leaves), path, root)
    if path:
        at = data.draw(st.integers(0, len(path) - 1))
        bad = [*path[:at], other, *path[at + 1 :]]
        assert not verify_inclusion(leaves[index], index, len(leaves), bad, root)
        assert not verify_inclusion(leaves[index], index, len(leaves), path[:-1], root)
    assert not verify_inclusion(leaves[index], index, len(leaves), [*path, other], root)
    changed = [*leaves[:index], other, *leaves[index + 1 :]]
    assert merkle_root(changed) != root


def test_the_chain_binds_every_field():
    base = chain_root(None, date(2026, 12, 1), 3, h("m"))
    assert base != chain_root(h("p"), date(2026, 12, 1), 3, h("m"))
    assert base != chain_root(None, date(2026, 12, 2), 3, h("m"))
    assert base != chain_root(None, date(2026, 12, 1), 4, h("m"))
    assert base != chain_root(None, date(2026, 12, 1), 3, h("n"))


def test_the_documented_vector_holds():
    """docs/verifiable-giving.md's test vector is what this code computes."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- vector -->")[1]
    values = dict(re.findall(r"^(\w+)\s*=\s*([0-9a-f]+|\d{4}-\d\d-\d\d)\s*$", block, re.M))
    leaves = [values[f"entry{i}"] for i in range(3)]
    assert merkle_root(leaves) == values["merkle_root"]
    assert audit_path(2, leaves) == [values["path2_0"]]
    assert audit_path(0, leaves) == [values["path0_0"], values["path0_1"]]
    chained = chain_root(None, date.fromisoformat(values["day"]), 3, values["merkle_root"])
    assert chained == values["root"]
