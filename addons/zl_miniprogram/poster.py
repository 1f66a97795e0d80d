# This file is part of zhonglian-ticketing. See README.md for the licence.
"""The pictures of a group promotion code (团体预约码), without Tryton: the
QR code as PNG and the printable poster staff hand to tour groups."""
import functools
import io
import shutil
import subprocess

import qrcode
from PIL import Image, ImageDraw, ImageFont

# A4 at 150 dpi: prints sharp on any office printer.
POSTER_SIZE = (1240, 1754)
QR_SIZE = 900
MARGIN = 80
DEFAULT_COLOR = '#1AAD19'
# Chinese text needs a CJK font (Debian: fonts-wqy-zenhei).
CJK_FONTS = [
    '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc',
    '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc',
    '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
    ]


def qr_png(data):
    "A QR code of data (text) as PNG bytes"
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10, border=4)
    code.add_data(data)
    code.make(fit=True)
    stream = io.BytesIO()
    code.make_image().get_image().save(stream, 'PNG')
    return stream.getvalue()


def to_png(data):
    "Image bytes of any format Pillow reads (WeChat sends JPEG) as PNG"
    with Image.open(io.BytesIO(data)) as image:
        if image.format == 'PNG':
            return bytes(data)
        stream = io.BytesIO()
        image.convert('RGB').save(stream, 'PNG')
        return stream.getvalue()


@functools.cache
def font_path():
    "A font with Chinese glyphs, or None"
    for path in CJK_FONTS:
        try:
            with open(path, 'rb'):
                return path
        except OSError:
            continue
    if shutil.which('fc-match'):
        try:
            path = subprocess.run(
                ['fc-match', '-f', '%{file}', ':lang=zh-cn'],
                capture_output=True, text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            path = None
        if path:
            return path
    return None


def font(size):
    path = font_path()
    if path:
        return ImageFont.truetype(path, size)
    # Without a CJK font Chinese shows as boxes, but the poster (and its
    # QR code) is still made.
    return ImageFont.load_default(size)


def rgb(color):
    "#RRGGBB as a tuple, the default color when malformed"
    try:
        return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
    except (TypeError, ValueError, IndexError):
        return rgb(DEFAULT_COLOR)


def _fit(draw, text, size, width, minimum=32):
    "The largest font up to size that fits text on width, and the lines"
    while True:
        face = font(size)
        if draw.textlength(text, font=face) <= width or size <= minimum:
            break
        size -= 4
    # Still too long at the smallest size: wrap by characters (Chinese
    # has no spaces to break at).
    lines, line = [], ''
    for char in text:
        if line and draw.textlength(line + char, font=face) > width:
            lines.append(line)
            line = ''
        line += char
    lines.append(line)
    return face, lines


def _centered(draw, y, text, size, fill, width=None):
    "Draw text centered from y; return the y below it"
    width = width or POSTER_SIZE[0] - 2 * MARGIN
    face, lines = _fit(draw, text, size, width)
    for line in lines:
        left, top, right, bottom = draw.textbbox((0, 0), line, font=face)
        draw.text(
            ((POSTER_SIZE[0] - (right - left)) / 2 - left, y - top),
            line, font=face, fill=fill)
        y += (bottom - top) + size // 3
    return y


def poster_png(qr, title, site_name, lines, color=None):
    """The printable poster (PNG bytes): site name on a band of color,
    the title (ticket name), the QR code (image bytes) big, and the
    lines (scan hint, code, validity) below it"""
    band = rgb(color or DEFAULT_COLOR)
    # Dark text on a light band, white on a dark one.
    luminance = 0.299 * band[0] + 0.587 * band[1] + 0.114 * band[2]
    on_band = (0, 0, 0) if luminance > 160 else (255, 255, 255)
    width, height = POSTER_SIZE
    poster = Image.new('RGB', POSTER_SIZE, 'white')
    draw = ImageDraw.Draw(poster)
    draw.rectangle([0, 0, width, 240], fill=band)
    _centered(draw, 80, site_name or '', 72, on_band)
    y = _centered(draw, 300, title or '', 84, (0, 0, 0))
    with Image.open(io.BytesIO(qr)) as image:
        code = image.convert('RGB')
    # Enlarged without smoothing: the modules stay sharp black squares.
    code = code.resize((QR_SIZE, QR_SIZE),
        Image.NEAREST if code.width < QR_SIZE else Image.LANCZOS)
    y = max(y + 20, 460)
    poster.paste(code, ((width - code.width) // 2, y))
    y += code.height + 40
    for line, size in zip(lines, [52, 44, 40, 40]):
        if line:
            y = _centered(draw, y, line, size, (60, 60, 60))
    draw.rectangle([0, height - 40, width, height], fill=band)
    stream = io.BytesIO()
    poster.save(stream, 'PNG', dpi=(150, 150))
    return stream.getvalue()
