"""Make the OCR fixtures: short letters in Ukrainian, Russian and English, rendered with
DejaVu Sans, rotated a little and speckled like a phone photo of a printed page, saved as
grayscale JPEG; and a two-page "scanned" PDF (no text layer) made of two of them.

Run from the repository root: ``.venv/bin/python tests/data/ocr/make_letters.py``.
The output is deterministic for a given Pillow version (the noise is seeded).
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
HERE = Path(__file__).parent

LETTERS = {
    "letter_uk": ("Шановна пані Олено!\n"
                  "12 березня мого сина затримали на блокпосту біля Макіївки.\n"
                  "Його відвезли до військкомату і там вручили повістку.\n"
                  "Ми не знаємо, де він зараз. Прошу вас допомогти.\n"
                  "З повагою, Марія", -1.5),
    "letter_ru": ("Здравствуйте!\n"
                  "В конце июня моего мужа остановили на блокпосту в Макеевке.\n"
                  "Ему вручили повестку и сразу отвезли в военкомат.\n"
                  "С тех пор мы не получали от него никаких известий.\n"
                  "Помогите, пожалуйста. Анна", 1.2),
    "letter_en": ("Dear Sir or Madam,\n"
                  "On 23 June my brother was stopped at a checkpoint near Luhansk.\n"
                  "Soldiers took his passport and drove him to the commissariat.\n"
                  "We have heard nothing from him since then.\n"
                  "Please help us. Olena", 1.0),
}


def letter(text: str, angle: float, seed: int) -> Image.Image:
    font = ImageFont.truetype(FONT, 30)
    page = Image.new("L", (1300, 420), 250)
    draw = ImageDraw.Draw(page)
    for number, line in enumerate(text.split("\n")):
        draw.text((50, 40 + number * 70), line, font=font, fill=25)
    rng = random.Random(seed)
    pixels = page.load()
    assert pixels is not None
    for _ in range(4000):  # dust and sensor noise
        x, y = rng.randrange(page.width), rng.randrange(page.height)
        pixels[x, y] = rng.choice((120, 200, 235))
    page = page.filter(ImageFilter.GaussianBlur(0.6))
    return page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=250)


def main() -> None:
    images = {}
    for seed, (name, (text, angle)) in enumerate(LETTERS.items()):
        images[name] = letter(text, angle, seed)
        images[name].save(HERE / f"{name}.jpg", quality=70, dpi=(200, 200))
    first, second = images["letter_ru"], images["letter_en"]
    first.save(HERE / "scanned_ru_en.pdf", save_all=True, append_images=[second],
               resolution=200.0, quality=70)


if __name__ == "__main__":
    main()
