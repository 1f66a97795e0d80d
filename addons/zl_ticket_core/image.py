# This file is part of zhonglian-ticketing. See README.md for the licence.
"Checks on uploaded pictures and rich text"
import io

import nh3
from PIL import Image, UnidentifiedImageError

from trytond.i18n import gettext

from .exceptions import ImageValidationError

# The manual's sizes: poster 600×800, album 600×450, banner 750×400.
POSTER_SIZE = (600, 800)
ALBUM_SIZE = (600, 450)

# What an intro may keep: text formatting, lists, tables and pictures.
HTML_TAGS = {
    'a', 'b', 'blockquote', 'br', 'div', 'em', 'font', 'h1', 'h2', 'h3',
    'h4', 'hr', 'i', 'img', 'li', 'ol', 'p', 's', 'span', 'strong', 'sub',
    'sup', 'table', 'tbody', 'td', 'th', 'thead', 'tr', 'u', 'ul',
    }
HTML_ATTRIBUTES = {
    '*': {'style', 'align'},
    'a': {'href', 'title'},
    'font': {'color', 'size', 'face'},
    'img': {'src', 'alt', 'width', 'height'},
    'td': {'colspan', 'rowspan'},
    'th': {'colspan', 'rowspan'},
    }


def check_image(data, size, field, record):
    "Raise ImageValidationError unless data is a picture of exactly size"
    if not data:
        return
    try:
        with Image.open(io.BytesIO(bytes(data))) as image:
            image.verify()
            actual = image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageValidationError(gettext(
                'zl_ticket_core.msg_image_invalid',
                field=field, record=record,
                width=size[0], height=size[1]))
    if tuple(actual) != tuple(size):
        raise ImageValidationError(gettext(
                'zl_ticket_core.msg_image_size',
                field=field, record=record,
                width=size[0], height=size[1],
                actual_width=actual[0], actual_height=actual[1]))


def sanitize_html(html):
    "Strip scripts, event handlers and unknown tags from staff HTML"
    if not html:
        return html
    return nh3.clean(
        html, tags=HTML_TAGS, attributes=HTML_ATTRIBUTES,
        url_schemes={'http', 'https', 'data', 'mailto', 'tel'},
        link_rel='noopener noreferrer')
