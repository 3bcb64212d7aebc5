"""Draws the made-up pictures and the short video in examples/sample-evidence.

Everything is synthetic: sketches drawn with Pillow, with a fixed random seed, and a video
encoded by ffmpeg from drawn frames. Run from the repository root, with the venv:

    .venv/bin/python examples/make_sample_media.py

The output is deterministic for a given Pillow, libjpeg and ffmpeg, but the files are
committed, so it only needs running when the pictures change. Changing a picture changes
its SHA-256: result.json's photo_file_size and file_size must then be updated too.
"""

from __future__ import annotations

import email.policy
import random
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent / "sample-evidence"
EXPORT = ROOT / "telegram-export"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT_BOLD if bold else FONT, size)
    except OSError:
        return ImageFont.load_default(size)


def sky_and_ground(draw: ImageDraw.ImageDraw, w: int, h: int, horizon: int) -> None:
    for y in range(horizon):  # a grey-blue sky, lighter towards the horizon
        t = y / horizon
        draw.line([(0, y), (w, y)], fill=(int(120 + 90 * t), int(140 + 80 * t), int(170 + 60 * t)))
    for y in range(horizon, h):  # dusty ground, darker towards the viewer
        t = (y - horizon) / (h - horizon)
        draw.line([(0, y), (w, y)], fill=(int(150 - 50 * t), int(140 - 45 * t), int(110 - 40 * t)))


def grain(img: Image.Image, seed: int, amount: int = 14) -> Image.Image:
    """Film-like noise, so the sketch looks photographed and PDQ has texture to hash."""
    rng = random.Random(seed)  # noqa: S311 (a fixed seed for drawings)
    noise = Image.new("L", img.size)
    noise.putdata([rng.randint(0, 255) for _ in range(img.size[0] * img.size[1])])
    noise = noise.filter(ImageFilter.GaussianBlur(0.6))
    overlay = Image.merge("RGB", (noise, noise, noise))
    return Image.blend(img, overlay, amount / 255)


def checkpoint(w: int = 480, h: int = 360, car_x: int | None = None) -> Image.Image:
    """A road checkpoint: concrete blocks, a striped barrier, a booth, a flag-less pole."""
    img = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(img)
    horizon = int(h * 0.45)
    sky_and_ground(d, w, h, horizon)
    # road narrowing to the horizon
    d.polygon([(int(w * 0.30), h), (int(w * 0.47), horizon), (int(w * 0.53), horizon),
               (int(w * 0.85), h)], fill=(85, 85, 90))
    d.line([(int(w * 0.57), h), (int(w * 0.5), horizon)], fill=(220, 220, 200), width=3)
    # trees on the horizon
    rng = random.Random(7)  # noqa: S311 (a fixed seed for drawings)
    for x in range(0, w, 18):
        r = rng.randint(10, 22)
        d.ellipse([x - r, horizon - 2 * r, x + r, horizon + 4],
                  fill=(60, 90 + rng.randint(0, 30), 50))
    # booth
    bx, by = int(w * 0.08), int(h * 0.42)
    d.rectangle([bx, by, bx + int(w * 0.16), by + int(h * 0.30)], fill=(110, 120, 95),
                outline=(40, 40, 40), width=2)
    d.rectangle([bx + 10, by + 15, bx + int(w * 0.16) - 10, by + 50], fill=(170, 200, 220),
                outline=(40, 40, 40))
    d.polygon([(bx - 8, by), (bx + int(w * 0.08), by - 25), (bx + int(w * 0.16) + 8, by)],
              fill=(70, 70, 60))
    # concrete blocks
    for i, x in enumerate((0.28, 0.70, 0.86)):
        x0 = int(w * x)
        d.rectangle([x0, int(h * 0.68), x0 + 50, int(h * 0.80)], fill=(180 - 10 * i, 175, 165),
                    outline=(90, 90, 90), width=2)
    # barrier: a post and a red-and-white arm across the road
    px = int(w * 0.27)
    d.rectangle([px, int(h * 0.50), px + 12, int(h * 0.72)], fill=(60, 60, 60))
    arm_y = int(h * 0.53)
    seg = 24
    for i, x in enumerate(range(px + 12, int(w * 0.82), seg)):
        d.rectangle([x, arm_y, x + seg, arm_y + 10],
                    fill=(200, 30, 30) if i % 2 == 0 else (245, 245, 245), outline=(60, 60, 60))
    # a sign
    d.rectangle([int(w * 0.62), int(h * 0.30), int(w * 0.78), int(h * 0.40)], fill=(250, 250, 235),
                outline=(20, 20, 20), width=2)
    d.text((int(w * 0.63), int(h * 0.32)), "STOP", fill=(180, 0, 0),
           font=font(max(10, h // 22), True))
    d.line([(int(w * 0.70), int(h * 0.40)), (int(w * 0.70), int(h * 0.55))], fill=(50, 50, 50),
           width=3)
    if car_x is not None:  # a car waiting at (or coming up to) the barrier
        cy = int(h * 0.76)
        d.rectangle([car_x, cy - 28, car_x + 90, cy], fill=(40, 70, 140), outline=(20, 20, 20),
                    width=2)
        d.rectangle([car_x + 15, cy - 48, car_x + 70, cy - 28], fill=(60, 90, 160),
                    outline=(20, 20, 20))
        d.rectangle([car_x + 22, cy - 44, car_x + 63, cy - 30], fill=(180, 210, 230))
        for wx in (car_x + 18, car_x + 72):
            d.ellipse([wx - 11, cy - 11, wx + 11, cy + 11], fill=(20, 20, 20))
        # two figures beside it
        for fx in (car_x + 110, car_x + 135):
            d.ellipse([fx - 6, cy - 62, fx + 6, cy - 50], fill=(200, 170, 140))
            d.rectangle([fx - 8, cy - 50, fx + 8, cy - 20], fill=(70, 80, 55))
            d.line([(fx - 4, cy - 20), (fx - 5, cy)], fill=(40, 40, 40), width=4)
            d.line([(fx + 4, cy - 20), (fx + 5, cy)], fill=(40, 40, 40), width=4)
    return img


def street(w: int = 480, h: int = 360) -> Image.Image:
    """A street of five-storey blocks, an empty road and a van at a doorway."""
    img = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(img)
    horizon = int(h * 0.30)
    sky_and_ground(d, w, h, horizon)
    rng = random.Random(11)  # noqa: S311 (a fixed seed for drawings)
    x = -10
    while x < w:
        bw = rng.randint(90, 140)
        top = rng.randint(int(h * 0.08), int(h * 0.22))
        shade = rng.randint(150, 200)
        d.rectangle([x, top, x + bw, int(h * 0.70)], fill=(shade, shade - 10, shade - 25),
                    outline=(80, 80, 80), width=2)
        for row in range(top + 12, int(h * 0.64), 26):
            for col in range(x + 10, x + bw - 16, 22):
                lit = rng.random() < 0.25
                d.rectangle([col, row, col + 12, row + 14],
                            fill=(230, 210, 140) if lit else (70, 85, 100))
        d.rectangle([x + bw // 2 - 10, int(h * 0.62), x + bw // 2 + 10, int(h * 0.70)],
                    fill=(60, 45, 35))  # doorway
        x += bw + rng.randint(4, 16)
    d.rectangle([0, int(h * 0.70), w, int(h * 0.74)], fill=(160, 160, 150))  # pavement
    d.rectangle([0, int(h * 0.74), w, h], fill=(80, 80, 85))  # road
    for x0 in range(0, w, 60):
        d.rectangle([x0, int(h * 0.86), x0 + 30, int(h * 0.87)], fill=(230, 230, 220))
    # a green van by a doorway
    vx, vy = int(w * 0.52), int(h * 0.80)
    d.rectangle([vx, vy - 55, vx + 130, vy], fill=(70, 95, 60), outline=(20, 20, 20), width=2)
    d.rectangle([vx + 100, vy - 45, vx + 126, vy - 25], fill=(170, 200, 210))
    for wx in (vx + 25, vx + 105):
        d.ellipse([wx - 12, vy - 12, wx + 12, vy + 12], fill=(20, 20, 20))
    return img


def document(w: int = 420, h: int = 560) -> Image.Image:
    """A 'summons' with obviously fake text, on slightly grey paper."""
    img = Image.new("RGB", (w, h), (238, 234, 222))
    d = ImageDraw.Draw(img)
    d.rectangle([10, 10, w - 10, h - 10], outline=(120, 110, 90), width=2)
    d.text((w // 2, 40), "ПОВІСТКА / ПОВЕСТКА", fill=(30, 30, 30), font=font(22, True), anchor="mm")
    d.text((w // 2, 70), "ЗРАЗОК • ВИГАДАНИЙ ДОКУМЕНТ", fill=(150, 20, 20), font=font(14, True),
           anchor="mm")
    lines = [
        "Громадянин: ІВАНОВ Демо Прикладович",
        "Адреса: вул. Вигадана, буд. 0, кв. 0",
        "",
        "Вам належить з'явитися до",
        "«військового комісаріату» (вигаданого)",
        "о 08:00 з паспортом.",
        "",
        "Паспорт серії ДЕМО № 000000 вилучено",
        "на блокпосту до явки.",
        "",
        "Lorem ipsum dolor sit amet — текст",
        "зразка не має жодного значення.",
    ]
    y = 110
    for line in lines:
        d.text((30, y), line, fill=(40, 40, 45), font=font(15))
        y += 24
    # a round stamp and a scribbled signature
    d.ellipse([w - 170, h - 190, w - 40, h - 60], outline=(40, 60, 160), width=4)
    d.ellipse([w - 158, h - 178, w - 52, h - 72], outline=(40, 60, 160), width=2)
    d.text((w - 105, h - 125), "ЗРАЗОК", fill=(40, 60, 160), font=font(16, True), anchor="mm")
    rng = random.Random(5)  # noqa: S311 (a fixed seed for drawings)
    pts = [(40 + i * 8, h - 90 + rng.randint(-12, 12)) for i in range(18)]
    d.line(pts, fill=(20, 20, 80), width=2)
    d.text((30, h - 40), "Підпис: (вигаданий)", fill=(60, 60, 60), font=font(13))
    # a fold across the middle and a little shadow, as photographed on a table
    d.line([(10, h // 2), (w - 10, h // 2)], fill=(205, 200, 188), width=3)
    return img.rotate(2.5, resample=Image.BICUBIC, expand=True, fillcolor=(90, 75, 60))


def save_jpeg(img: Image.Image, path: Path, quality: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # No caption on the picture (OCR would read the same words in every sketch, and the
    # texts would be linked as duplicates); the JPEG comment says what it is instead.
    img.save(path, "JPEG", quality=quality, optimize=True,
             comment=b"Synthetic sketch for the Svidok demo; not a real photo.")


def video(path: Path, thumb: Path, seconds: int = 3, fps: int = 10) -> None:
    """Cars coming up to the barrier, 320x240, H.264."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        n = seconds * fps
        for i in range(n):
            frame = checkpoint(320, 240, car_x=320 - int(i * 200 / n))
            frame = grain(frame, 100 + i, 10)
            frame.save(Path(tmp) / f"f{i:03d}.png")
        subprocess.run(
            ["ffmpeg", "-y", "-loglevel", "error", "-framerate", str(fps),
             "-i", str(Path(tmp) / "f%03d.png"), "-c:v", "libx264", "-preset", "veryslow",
             "-crf", "30", "-g", str(fps), "-pix_fmt", "yuv420p", "-movflags", "+faststart",
             "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
             str(path)], check=True)
        first = Image.open(Path(tmp) / "f000.png").convert("RGB")
        first.thumbnail((320, 240))
        save_jpeg(first, thumb, 70)


def letter_with_photo(photo: Path, out: Path) -> None:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = "Demo Meshkanets <meshkanets.demo@example.org>"
    msg["To"] = "documenters@example.org"
    msg["Subject"] = "Облава на нашій вулиці (вигаданий лист)"
    msg["Date"] = format_datetime(datetime(2024, 7, 2, 22, 40, tzinfo=timezone(timedelta(hours=3))))
    msg["Message-ID"] = "<demo-0003@example.org>"
    msg.set_content(
        "Вигаданий лист для демонстрації Svidok: людини, яка це пише, не існує.\n\n"
        "Добрий вечір. Пишу з дому, на вулицю не виходжу вже третій тиждень.\n"
        "Сьогодні вранці, 2 липня, на нашу вулицю в Макіївці заїхали два фургони.\n"
        "Люди у формі ходили по під'їздах, стукали у двері й питали, чи є в квартирі\n"
        "чоловіки. Трьох сусідів вивели просто в капцях, забрали в них паспорти і\n"
        "посадили у фургон. Казали, що везуть до військкомату «на уточнення даних».\n"
        "До нас теж стукали, дружина сказала, що мене немає вдома.\n\n"
        "Фото зробив з вікна, коли фургон уже стояв біля під'їзду.\n"
        "Якщо можна, не називайте мого імені.\n",
        charset="utf-8", cte="8bit")
    msg.add_attachment(photo.read_bytes(), maintype="image", subtype="jpeg",
                       filename="z-vikna.jpg")
    msg.set_boundary("demo-boundary-0003")  # a fixed boundary: the same bytes on every run
    out.write_bytes(msg.as_bytes())


def main() -> None:
    photos = EXPORT / "photos"
    save_jpeg(grain(checkpoint(), 1), photos / "photo_2@12-06-2024_08-14-00.jpg", 72)
    street_img = grain(street(), 2)
    save_jpeg(street_img, photos / "photo_3@02-07-2024_10-30-00.jpg", 72)
    doc = document()
    doc.convert("P", palette=Image.ADAPTIVE, colors=64).save(
        photos / "photo_4@09-07-2024_14-00-00.png", optimize=True)
    # the same street photo as the man sent it by e-mail: smaller, recompressed
    small = street_img.resize((320, 240), Image.LANCZOS)
    with tempfile.TemporaryDirectory() as tmp:
        attachment = Path(tmp) / "z-vikna.jpg"
        save_jpeg(small, attachment, 55)
        letter_with_photo(attachment, ROOT / "letters" / "lyst-oblava.eml")
    video(EXPORT / "video_files" / "video_1@25-06-2024_07-55-00.mp4",
          EXPORT / "video_files" / "video_1@25-06-2024_07-55-00.mp4_thumb.jpg")


if __name__ == "__main__":
    main()
