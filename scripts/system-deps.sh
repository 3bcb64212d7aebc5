#!/usr/bin/env bash
# Make sure the Debian packages Svidok needs are installed: with apt-get when run as root,
# otherwise stop and say exactly what to install.
set -euo pipefail

# Debian package -> a file that proves it is installed.
declare -A NEED=(
  [libmagic1]=/usr/share/misc/magic.mgc
  # svidok capture: Playwright drives Debian's browser; it never downloads one.
  [chromium]=/usr/bin/chromium
  # So that screenshots of pages render their text.
  [fonts-dejavu-core]=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
  # svidok enrich: OCR in Ukrainian, Russian and English; video and audio metadata.
  [tesseract-ocr]=/usr/bin/tesseract
  [tesseract-ocr-ukr]=/usr/share/tesseract-ocr/5/tessdata/ukr.traineddata
  [tesseract-ocr-rus]=/usr/share/tesseract-ocr/5/tessdata/rus.traineddata
  [tesseract-ocr-eng]=/usr/share/tesseract-ocr/5/tessdata/eng.traineddata
  [ffmpeg]=/usr/bin/ffmpeg
)
# The file may also live under /usr/lib/file on some releases.
have() { [ -e "$1" ] || { [ "$1" = /usr/share/misc/magic.mgc ] && [ -e /usr/lib/file/magic.mgc ]; }; }

missing=()
for pkg in "${!NEED[@]}"; do
  have "${NEED[$pkg]}" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "Svidok needs these Debian packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
