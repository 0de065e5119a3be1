"""The journal's Merkle tree against RFC 6962's test vectors, and its proofs round-tripped."""

from __future__ import annotations

import pytest

from recordkeep.trust import merkle

# RFC 6962 / certificate-transparency test vectors: eight leaf inputs and the root of each prefix
INPUTS = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
          b"\x50\x51\x52\x53\x54\x55\x56\x57", bytes(range(0x60, 0x70))]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAVES = [merkle.leaf_hash(x) for x in INPUTS]


def test_the_empty_tree_is_the_hash_of_nothing():
    assert merkle.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", range(1, 9))
def test_the_root_of_each_prefix_is_rfc_6962s(size):
    assert merkle.root(LEAVES[:size]).hex() == ROOTS[size - 1]


def test_the_compact_range_grows_to_the_same_roots_and_round_trips():
    tree = merkle.CompactRange()
    for size, leaf in enumerate(LEAVES, start=1):
        tree.append(leaf)
        assert tree.root().hex() == ROOTS[size - 1]
        assert len(tree.roots) == bin(size).count("1")
        assert merkle.CompactRange.from_data(tree.as_data()).root() == tree.root()


def test_rfc_6962s_inclusion_proof_of_leaf_0_in_8():
    proof = merkle.Tree(LEAVES).inclusion(0)
    assert [p.hex()[:8] for p in proof] == ["96a296d2", "5f083f0a", "6b47aaf2"]


def test_every_inclusion_proof_verifies_and_fails_on_a_changed_leaf_or_root():
    for size in range(1, 17):
        leaves = [merkle.leaf_hash(bytes([i])) for i in range(size)]
        top = merkle.root(leaves)
        for i in range(size):
            proof = merkle.Tree(leaves).inclusion(i)
            assert merkle.verify_inclusion(i, size, leaves[i], proof, top)
            assert not merkle.verify_inclusion(i, size, merkle.leaf_hash(b"x"), proof, top)
            assert not merkle.verify_inclusion(i, size, leaves[i], proof, merkle.leaf_hash(b"y"))
            if size > 1:
                assert not merkle.verify_inclusion((i + 1) % size, size, leaves[i], proof, top)


def test_every_consistency_proof_verifies_and_fails_on_a_rewritten_prefix():
    for new in range(1, 17):
        leaves = [merkle.leaf_hash(bytes([i])) for i in range(new)]
        for old in range(1, new + 1):
            proof = merkle.Tree(leaves).consistency(old)
            old_root, new_root = merkle.root(leaves[:old]), merkle.root(leaves)
            assert merkle.verify_consistency(old, new, old_root, new_root, proof), (old, new)
            rewritten = merkle.root([merkle.leaf_hash(b"forged"), *leaves[1:old]])
            assert not merkle.verify_consistency(old, new, rewritten, new_root, proof) or (old == new and \
                rewritten == old_root)


def test_a_tree_answers_for_each_prefix_as_the_tree_of_that_prefix_alone():
    leaves = [merkle.leaf_hash(bytes([i, i])) for i in range(37)]
    tree = merkle.Tree(leaves)
    for size in range(0, 38):
        assert tree.root(size) == merkle.root(leaves[:size])
        alone = merkle.Tree(leaves[:size])
        for i in range(size):
            assert tree.inclusion(i, size) == alone.inclusion(i)
        for old in range(1, size + 1):
            assert tree.consistency(old, size) == alone.consistency(old)
