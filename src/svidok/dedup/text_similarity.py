"""Near-duplicate texts: MinHash signatures, LSH banding, exact Jaccard to confirm.

The same Telegram post travels from channel to channel with a few words changed and each
channel's footer ("Підписатися | Надіслати новину", "@channel") appended. To see through
that, a text is first *normalised*: NFKC, case-folded (ё as е, one apostrophe), URLs,
@mentions and emoji dropped, trailing footer lines removed, punctuation and spacing
reduced to single spaces between words.

Its *shingles* are then the runs of 3 consecutive words. On synthetic posts with 5% of the
words edited and a footer appended, 3-word shingles with a 0.5 threshold found 99% of
copies where 5-word shingles or a 0.7 threshold found 21–60% (research note
media-matching.md §3.6). A post of fewer than 8 words has too few shingles for that, so its
single "shingle" is the whole normalised text: short posts match only when they are equal
after normalisation.

The *signature* is a MinHash of 128 functions, each a 64-bit mixer (murmur3's fmix64) of the
shingle's BLAKE2b hash XORed with a per-function constant, keeping the top 32 bits: 512 bytes,
little-endian, stored in the database. It is defined here rather than borrowed from
datasketch because stored signatures must not change when a library changes its default
(datasketch 2.0 did); any change to normalisation, shingles or signature must bump
``TEXT_SIMILARITY_VERSION``.

``TextIndex`` bands the signature into 32 bands of 4 values. A pair with similarity s becomes
a candidate with probability 1 − (1 − s⁴)³²: 0.87 at 0.5, 0.99 at 0.6, 0.9999 at 0.74 (a
typical 5%-edited copy). The banding leans to recall on purpose: every candidate is checked
by the exact Jaccard similarity of the shingles, so a false candidate costs a set
intersection, never a false link.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from svidok.dedup import DedupError

TEXT_SIMILARITY_VERSION = ("text-minhash:1:nfkc-fold-nourl-footer:w3-short8:fmix64x128-u32"
                           ":lsh32x4-xorrotl29")

SHINGLE_WORDS = 3
SHORT_POST_WORDS = 8        # fewer words than this: the whole normalised text is one shingle
NUM_PERM = 128
SIGNATURE_BYTES = NUM_PERM * 4
BANDS, ROWS = 32, 4
THRESHOLD = 0.5  # Jaccard similarity from which two texts are linked
MAX_TEXT_CHARS = 1_000_000  # beyond this only the beginning is compared (about 150k words)
FOOTER_LINES = 4            # at most this many trailing lines are taken as a footer
FOOTER_WORDS = 10           # a footer line is short

# Words and folding are defined here, not borrowed from svidok.enrich.words, so that stored
# signatures change only with TEXT_SIMILARITY_VERSION. A word: letters (any script) and
# digits, with apostrophes and hyphens inside («пам'ять», «Нью-Йорк»).
_WORD = re.compile(r"[^\W_](?:[\w'-]*[^\W_])?")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'", "ё": "е"})

_SHORT_MARK = "="           # never inside a normalised text, so "=a b c" is no 3-shingle
_HASH_CHUNK = 4096          # shingles per numpy pass: (4096 × 128) uint64 = 4 MiB

_URL = re.compile(r"(?:https?://|www\.)\S+|\b(?:t|telegram)\.me/\S+"
                  r"|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/\S*", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+")
# Words that mark a channel's footer line, in Ukrainian, Russian and English (folded).
_FOOTER = re.compile(
    r"підпис|підпиш|подпис|подпиш|subscribe|наш канал|нашого каналу|our channel|"
    r"надіслати новину|надіслати фото|запропонувати новину|прислати новину|"
    r"прислать новость|предложить новость|прислать фото|зворотн\w* зв.язок|"
    r"обратн\w* связ|send (?:us )?news|follow us|join us|"
    r"читайте нас|читати нас|наш чат|наш бот|\bбот\b|\bbot\b|instagram|twitter|youtube|"
    r"facebook|tiktok|viber|whatsapp|telegram|телеграм")

def normalise(text: str) -> str:
    """The words of ``text`` that are its content, folded, joined by single spaces."""
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS])
    text = _MENTION.sub(" ", _URL.sub(" ", text)).casefold().translate(_APOSTROPHES)
    # Lines without words (emoji, links, separators) add nothing to the result anyway.
    lines = [words for line in text.splitlines() if (words := _WORD.findall(line))]
    dropped = 0
    # The first line is content even when short and mentioning Telegram: never a footer.
    while len(lines) > 1 and dropped < FOOTER_LINES and _is_footer(lines[-1]):
        lines.pop()
        dropped += 1
    return " ".join(word for words in lines for word in words)


def _is_footer(words: list[str]) -> bool:
    return len(words) <= FOOTER_WORDS and _FOOTER.search(" ".join(words)) is not None


def shingles(text: str) -> frozenset[str]:
    """The 3-word shingles of the normalised text; for a short text, the text itself."""
    words = normalise(text).split()
    if not words:
        return frozenset()
    if len(words) < SHORT_POST_WORDS:
        return frozenset({_SHORT_MARK + " ".join(words)})
    return frozenset(" ".join(words[i:i + SHINGLE_WORDS])
                     for i in range(len(words) - SHINGLE_WORDS + 1))


def signature(text: str) -> bytes:
    """The MinHash signature of ``text``: 128 little-endian uint32, deterministic."""
    return minhash(shingles(text))


def minhash(shingle_set: Iterable[str]) -> bytes:
    """The MinHash signature of shingles already computed (see ``signature``).

    An empty set gives all ones, which ``TextIndex`` never bands.
    """
    values = np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    batch: list[int] = []
    for shingle in shingle_set:
        digest = hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest()
        batch.append(int.from_bytes(digest, "little"))
        if len(batch) == _HASH_CHUNK:
            np.minimum(values, _permuted_min(batch), out=values)
            batch.clear()
    if batch:
        np.minimum(values, _permuted_min(batch), out=values)
    return values.astype("<u4").tobytes()


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b|; 0.0 when either is empty (two empty texts are not duplicates)."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


@dataclass(frozen=True, slots=True)
class TextMatch:
    key: int
    similarity: float   # exact Jaccard of the shingles, at least the index's threshold


class TextIndex:
    """LSH over MinHash signatures; candidates confirmed by exact Jaccard. Not persisted,
    and not thread-safe: one thread adds and queries (as the linking job does).

    Shingles for the check are kept in memory when given to ``add`` (fine for thousands of
    posts); for large archives pass none and give ``query`` a ``shingles_of`` that
    recomputes them from the stored text.
    """

    def __init__(self, threshold: float = THRESHOLD) -> None:
        if not 0.0 < threshold <= 1.0:
            raise DedupError("threshold must be in (0, 1]")
        self.threshold = threshold
        self._buckets: dict[int, list[int]] = {}
        self._keys: set[int] = set()
        self._shingles: dict[int, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def add(self, key: int, sig: bytes, shingles: frozenset[str] | None = None) -> None:
        """Index ``sig`` under ``key``; a key is added once (remove it to replace it)."""
        _check_signature(sig)
        if key in self._keys:
            raise DedupError(f"key {key} is already in the text index")
        self._keys.add(key)
        if shingles is not None:
            self._shingles[key] = shingles
        # An empty text has no bands: it would put every empty post into one bucket.
        for band in band_keys(sig):
            self._buckets.setdefault(band, []).append(key)

    def remove(self, key: int, sig: bytes) -> None:
        """Drop ``key``, given the signature it was added with; unknown keys are ignored."""
        _check_signature(sig)
        if key not in self._keys:
            return
        self._keys.discard(key)
        self._shingles.pop(key, None)
        for band in band_keys(sig):
            holders = self._buckets.get(band)
            if holders is not None and key in holders:
                holders.remove(key)
                if not holders:
                    del self._buckets[band]

    def candidates(self, sig: bytes, exclude: int | None = None) -> set[int]:
        """Keys sharing a band with ``sig``: what ``query`` confirms. Most texts have none,
        and then their shingles need not be computed at all."""
        found: set[int] = set()
        for band in band_keys(sig):
            found.update(self._buckets.get(band, ()))
        if exclude is not None:
            found.discard(exclude)
        return found

    def query(self, sig: bytes, shingles: frozenset[str], exclude: int | None = None,
              shingles_of: Callable[[int], frozenset[str]] | None = None) -> list[TextMatch]:
        """Keys whose shingles have Jaccard similarity >= threshold with ``shingles``.

        Most similar first, then by key. ``exclude`` is typically the querying item's own
        key. Shingles of a candidate come from ``add`` or else from ``shingles_of``.
        """
        if not shingles:
            return []
        candidates = self.candidates(sig, exclude)
        matches = []
        for key in candidates:
            theirs = self._shingles.get(key)
            if theirs is None:
                if shingles_of is None:
                    raise DedupError(f"no shingles for key {key}: give them to add() "
                                     "or pass shingles_of")
                theirs = shingles_of(key)
            similarity = jaccard(shingles, theirs)
            if similarity >= self.threshold:
                matches.append(TextMatch(key, similarity))
        matches.sort(key=lambda m: (-m.similarity, m.key))
        return matches


def _permuted_min(hashes: list[int]) -> npt.NDArray[np.uint32]:
    """Per function, the smallest top-32 bits of fmix64(hash XOR seed_i) over the hashes."""
    x = np.array(hashes, dtype=np.uint64)[:, None] ^ _SEEDS[None, :]
    # murmur3 fmix64: every input bit affects every output bit; uint64 products wrap.
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> np.uint64(33)
    top: npt.NDArray[np.uint32] = (x >> np.uint64(32)).min(axis=0).astype(np.uint32)
    return top


def _seeds() -> npt.NDArray[np.uint64]:
    # From SHA-256 of a fixed label, not from a random generator whose stream could change.
    values = [int.from_bytes(hashlib.sha256(f"svidok-minhash-{i}".encode()).digest()[:8],
                             "little") for i in range(NUM_PERM)]
    return np.array(values, dtype=np.uint64)


_SEEDS = _seeds()


def _check_signature(sig: bytes) -> None:
    if not isinstance(sig, bytes | bytearray) or len(sig) != SIGNATURE_BYTES:
        size = len(sig) if isinstance(sig, bytes | bytearray) else type(sig).__name__
        raise DedupError(f"a text signature has {SIGNATURE_BYTES} bytes, not {size}")


def _is_empty(sig: bytes) -> bool:
    return sig == b"\xff" * SIGNATURE_BYTES


def band_keys(sig: bytes) -> list[int]:
    """The signature's 32 bands, each as one signed 64-bit number: what the database's
    band table and ``TextIndex`` look candidates up by. Empty for an empty text.

    A band is four 32-bit minima, i.e. two 64-bit words (a, b); its key is
    a XOR rotl(b, 29) XOR a per-band constant. The minima are uniformly distributed, so two
    different bands share a key with probability 2⁻⁶⁴: a false candidate, which the exact
    Jaccard check would reject anyway. Part of ``TEXT_SIMILARITY_VERSION``: stored keys must
    not change.
    """
    _check_signature(sig)
    if _is_empty(sig):
        return []
    words = np.frombuffer(sig, dtype="<u8").reshape(BANDS, ROWS // 2)
    a, b = words[:, 0], words[:, 1]
    mixed = a ^ ((b << np.uint64(29)) | (b >> np.uint64(35))) ^ _BAND_SALT
    return [int(k) for k in mixed.view(np.int64)]


_BAND_SALT = np.arange(1, BANDS + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
