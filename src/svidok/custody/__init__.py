"""The custody log: every event on evidence as a leaf of an RFC 6962/9162 Merkle tree.

``verify_inclusion`` and ``verify_consistency`` follow RFC 9162 sections 2.1.3.2 and
2.1.4.2 with 0-based indices; both take bytes and raise :class:`ProofError` on any failure.
"""

from svidok.custody.merkle import (
    EMPTY_ROOT,
    ProofError,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

__all__ = ["EMPTY_ROOT", "ProofError", "leaf_hash", "node_hash", "verify_consistency",
           "verify_inclusion"]
