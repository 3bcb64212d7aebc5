"""Near-duplicate indexes and clusters: which items are copies of which.

Three layers, from exact to fuzzy, each giving *links* with a distance, never merges:

* SHA-256 of the original bytes: the evidence identity itself. The locker already keeps
  identical bytes as one original with several sightings, so exact copies need no link:
  the report counts how often each item was seen.
* ``hash_index``: PDQ hashes of images and of video frames (32 bytes each) in an exact
  Hamming range search, queried with the 8 rotations and flips of a picture.
* ``text_similarity``: MinHash signatures of normalised post texts, banded for LSH, every
  candidate confirmed by the exact Jaccard similarity of the shingles.

``clusters`` groups linked items into connected components for display ("probable
re-uploads"). The originals always stay apart: a cluster is a view over links a person can
inspect, confirm or reject, not a merge of records.

The indexes live in memory and are rebuilt from the hashes and signatures stored in the
database; nothing here touches the database or the blob store.
"""

from __future__ import annotations


class DedupError(ValueError):
    """Malformed input to a dedup index: wrong hash size, unknown shingles, bad radius.

    Messages name what was wrong (kind, position, size), never hash values or text.
    """
