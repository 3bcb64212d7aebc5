"""Near-duplicate texts: a reposted Telegram post is found, an unrelated one is not.

The posts below are written for these tests (no real evidence). A "repost" edits 5% of the
words, as channels do when they rephrase, and appends a channel footer.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import subprocess
import sys

import pytest

from svidok.dedup import DedupError
from svidok.dedup.text_similarity import (
    MAX_TEXT_CHARS,
    SIGNATURE_BYTES,
    TEXT_SIMILARITY_VERSION,
    TextIndex,
    TextMatch,
    band_keys,
    jaccard,
    normalise,
    shingles,
    signature,
)

POSTS = {
    "uk": "Сьогодні близько восьмої ранку на блокпосту між Мелітополем і Токмаком окупанти "
          "зупинили рейсовий автобус. Усіх чоловіків віком від вісімнадцяти до шістдесяти "
          "років вивели з салону, перевірили документи та телефони. Трьом місцевим мешканцям "
          "вручили повістки до так званого військкомату, у двох забрали українські паспорти. "
          "Родичі не можуть з'ясувати, куди їх повезли. Свідки кажуть, що такі перевірки "
          "тепер відбуваються щодня, а водіїв змушують звітувати про пасажирів.",
    "ru": "Вчера вечером в Мариуполе военные провели облаву возле центрального рынка. Мужчин "
          "задерживали прямо на улице, проверяли телефоны и паспорта, а тех, у кого не было "
          "российских документов, сажали в автобусы. По словам очевидцев, не менее двадцати "
          "человек отвезли в комендатуру на левом берегу. Некоторым вручили повестки и "
          "приказали явиться через три дня. Родственники задержанных до сих пор не получили "
          "никакой информации о том, где они находятся.",
    "en": "Residents of occupied Berdiansk report that soldiers went door to door on Tuesday "
          "checking the documents of every man in the apartment blocks near the port. Those "
          "who still held only Ukrainian passports were told to obtain Russian ones within a "
          "week or face conscription. At least five men were taken away in a van without "
          "explanation. Families say the detainees were not allowed to call anyone, and a "
          "local lawyer who asked about them was threatened with arrest.",
}
UNRELATED = {
    "uk": "У Запоріжжі відкрили новий пункт незламності біля залізничного вокзалу. Там можна "
          "зарядити телефон, випити гарячого чаю та отримати консультацію юриста щодо "
          "відновлення втрачених документів. Волонтери просять приносити теплий одяг для "
          "переселенців, які прибувають з окупованих територій.",
    "ru": "В Херсоне после обстрела восстановили подачу электричества в трех районах города. "
          "Коммунальные службы продолжают работы на подстанции, жителей просят экономить "
          "воду и заранее зарядить фонарики на случай новых отключений.",
    "en": "The regional court postponed the hearing on the seized farmland until next month "
          "because the defendant's lawyer did not appear. Journalists who travelled to the "
          "court were not allowed into the building and waited outside for three hours.",
}
FOOTERS = [
    "\n\n👉 Підписатися на канал | Надіслати новину\nt.me/typovyi_kanal",
    "\n\n⚡️ Подписаться на «Новости Юга» @novosti_yuga",
    "\n\nFollow us: https://t.me/south_monitor",
    "\n\n🔥 Наш чат: @chat_zp\n💬 Зворотний зв'язок: @feedback_bot",
]


def reposted(text: str, rng: random.Random, footer: str, share: float = 0.05) -> str:
    """``text`` with ``share`` of its words replaced and a channel footer appended."""
    words = text.split()
    for i in rng.sample(range(len(words)), math.ceil(share * len(words))):
        words[i] = rng.choice(["також", "ещё", "reportedly", "нібито", "якобы", "then"])
    return " ".join(words) + footer


def indexed(posts: dict[int, str]) -> TextIndex:
    index = TextIndex()
    for key, text in posts.items():
        index.add(key, signature(text), shingles(text))
    return index


def test_normalising_drops_case_links_mentions_emoji_and_the_footer() -> None:
    text = ("ＢＲＥＡＫＩＮＧ 🔥 Військкомат у Мелітополі https://t.me/c/123/45 вручає "
            "повістки, — пише @melitopol_news.\nДеталі: www.example.org/page\n\n"
            "Підписатися | Надіслати новину\n👉 t.me/typovyi_kanal")
    assert normalise(text) == ("breaking військкомат у мелітополі вручає повістки пише "
                               "деталі")
    # Ukrainian apostrophes fold to one, ё to е, so spellings of the same word meet.
    assert normalise("Пам’ять, памʼять, пам'ять; ЁЛКА, елка") == \
        "пам'ять пам'ять пам'ять елка елка"


def test_a_short_first_line_is_content_even_when_it_looks_like_a_footer() -> None:
    assert normalise("Telegram заблокував канал") == "telegram заблокував канал"
    # ...and a footer-like line in the middle of a post stays.
    assert normalise("Перший рядок\nНаш канал закрили\nОстанній рядок") == \
        "перший рядок наш канал закрили останній рядок"


def test_shingles_are_three_words_and_short_posts_one_exact_shingle() -> None:
    long = "one two three four five six seven eight"
    assert shingles(long) == {"one two three", "two three four", "three four five",
                              "four five six", "five six seven", "six seven eight"}
    assert len(shingles("Вибухи в Мелітополі")) == 1
    assert shingles("Вибухи в Мелітополі 💥") == shingles("вибухи   в мелітополі!!!")
    assert shingles("") == frozenset() == shingles("🔥 https://t.me/x @someone")


def test_jaccard() -> None:
    a, b = frozenset({"x", "y", "z"}), frozenset({"y", "z", "w"})
    assert jaccard(a, b) == 0.5
    assert jaccard(a, a) == 1.0
    assert jaccard(frozenset(), frozenset()) == 0.0


@pytest.mark.parametrize("language", ["uk", "ru", "en"])
def test_a_reposted_post_with_edits_and_a_footer_is_found(language: str) -> None:
    posts = {i: text for i, text in enumerate([*POSTS.values(), *UNRELATED.values()])}
    index = indexed(posts)
    original = list(POSTS).index(language)
    rng = random.Random(language)

    for footer in FOOTERS:
        copy = reposted(POSTS[language], rng, footer)
        found = index.query(signature(copy), shingles(copy))
        assert [m.key for m in found] == [original]
        assert 0.5 <= found[0].similarity < 1.0


@pytest.mark.parametrize("language", ["uk", "ru", "en"])
def test_an_unrelated_post_is_not_found(language: str) -> None:
    index = indexed(dict(enumerate(POSTS.values())))
    text = UNRELATED[language]
    assert index.query(signature(text), shingles(text)) == []


def test_recall_on_many_synthetic_reposts() -> None:
    """200 posts of 40 to 200 words, each reposted with 5% edits and a footer: all found,
    and none matches another post (the research note measured recall 0.99)."""
    rng = random.Random(2024)
    vocabulary = sorted({w for text in POSTS.values() for w in text.split()}) \
        + [f"слово{i}" for i in range(3000)]
    posts = {key: " ".join(rng.choice(vocabulary) for _ in range(rng.randint(40, 200)))
             for key in range(200)}
    index = indexed(posts)

    found = 0
    for key, text in posts.items():
        copy = reposted(text, rng, rng.choice(FOOTERS))
        matches = index.query(signature(copy), shingles(copy))
        assert {m.key for m in matches} <= {key}
        found += bool(matches)
    assert found / len(posts) >= 0.99


def test_short_posts_match_only_when_equal_after_normalising() -> None:
    index = indexed({1: "Вибухи в Мелітополі", 2: "Вибухи в Бердянську",
                     3: POSTS["uk"]})
    copy = "ВИБУХИ в Мелітополі 💥💥\nПідписатися на канал"
    assert index.query(signature(copy), shingles(copy)) == [TextMatch(1, 1.0)]
    other = "Вибухи в Токмаку"
    assert index.query(signature(other), shingles(other)) == []


def test_the_querying_item_can_exclude_itself() -> None:
    index = indexed({1: POSTS["en"], 2: POSTS["en"] + "\n\nFollow us: @x"})
    sig, sh = signature(POSTS["en"]), shingles(POSTS["en"])
    assert index.query(sig, sh) == [TextMatch(1, 1.0), TextMatch(2, 1.0)]
    assert index.query(sig, sh, exclude=1) == [TextMatch(2, 1.0)]


def test_shingles_can_be_fetched_instead_of_kept_in_memory() -> None:
    stored = {7: POSTS["ru"]}
    index = TextIndex()
    index.add(7, signature(stored[7]))             # no shingles kept
    copy = reposted(POSTS["ru"], random.Random(1), FOOTERS[1])

    found = index.query(signature(copy), shingles(copy),
                        shingles_of=lambda key: shingles(stored[key]))
    assert [m.key for m in found] == [7]
    with pytest.raises(DedupError, match="no shingles for key 7"):
        index.query(signature(copy), shingles(copy))


def test_removed_posts_are_not_found_and_keys_are_added_once() -> None:
    index = indexed({1: POSTS["uk"]})
    with pytest.raises(DedupError, match="already"):
        index.add(1, signature(POSTS["uk"]))
    index.remove(1, signature(POSTS["uk"]))
    index.remove(99, signature(POSTS["uk"]))       # unknown: ignored
    assert len(index) == 0
    assert index.query(signature(POSTS["uk"]), shingles(POSTS["uk"])) == []


def test_empty_texts_never_match() -> None:
    index = indexed({1: "", 2: "🔥🔥🔥", 3: "https://t.me/x"})
    assert index.query(signature(""), shingles("")) == []
    assert len(index) == 3


def test_signature_is_512_bytes_and_the_same_in_another_process() -> None:
    text = POSTS["uk"]
    sig = signature(text)
    assert len(sig) == SIGNATURE_BYTES == 512
    code = ("import sys; from svidok.dedup.text_similarity import signature; "
            "sys.stdout.write(signature(sys.stdin.read()).hex())")
    other = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True,
                           text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "123"})
    assert bytes.fromhex(other.stdout) == sig


def test_signatures_are_pinned_to_the_version() -> None:
    """Stored signatures are compared with new ones: if this fails, the algorithm changed,
    and TEXT_SIMILARITY_VERSION must change with it (and stored signatures be redone)."""
    text = "Сьогодні вранці на блокпосту біля Мелітополя військові затримали трьох чоловіків."
    assert TEXT_SIMILARITY_VERSION == ("text-minhash:1:nfkc-fold-nourl-footer:w3-short8:"
                                       "fmix64x128-u32:lsh32x4-xorrotl29")
    assert hashlib.sha256(signature(text)).hexdigest()[:16] == "41c36b635d5ca4db"
    # The band keys are stored too (the minhash_bands table): pinned the same way.
    keys = band_keys(signature(text))
    assert len(keys) == 32
    assert hashlib.sha256(repr(keys).encode()).hexdigest()[:16] == "5e9801d2e6a8b363"


def test_a_huge_text_is_compared_by_its_beginning() -> None:
    rng = random.Random(3)
    words = [f"w{i}" for i in range(5000)]
    huge = " ".join(rng.choice(words) for _ in range(MAX_TEXT_CHARS // 4))
    assert len(huge) > MAX_TEXT_CHARS
    assert signature(huge) == signature(huge[:MAX_TEXT_CHARS])


def test_bad_signatures_and_thresholds_are_refused() -> None:
    index = TextIndex()
    for bad in (b"", b"\x00" * 511, "not bytes"):
        with pytest.raises(DedupError, match="512 bytes"):
            index.add(1, bad)  # type: ignore[arg-type]
    for threshold in (0.0, 1.5):
        with pytest.raises(DedupError):
            TextIndex(threshold)
