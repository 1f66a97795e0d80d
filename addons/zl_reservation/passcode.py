# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Signed pass tokens: a gate can reject a forged or altered QR code
offline, holding only public keys"""
import base64
import datetime as dt
import functools
import io
import re
import struct
from typing import NamedTuple

import qrcode
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from qrcode.image.pil import PilImage

PREFIX = 'ZL1'
VERSION = 1
# version, key id, pass id, ticket id, days since 1970-01-01, slot id
_PAYLOAD = struct.Struct('>BHQIII')
_SIGNATURE_SIZE = 64
_RAW_SIZE = _PAYLOAD.size + _SIGNATURE_SIZE  # 23 + 64
# 87 bytes are 29 whole base64 groups: no padding and no spare bits, so
# every character matters and each token has a single spelling.
assert _RAW_SIZE % 3 == 0
_BODY = re.compile(r'[A-Za-z0-9_-]{%d}' % (_RAW_SIZE // 3 * 4))
CODE_LENGTH = len(PREFIX) + _RAW_SIZE // 3 * 4  # 119
_EPOCH = dt.date(1970, 1, 1).toordinal()


class InvalidCode(ValueError):
    pass


class Payload(NamedTuple):
    key_id: int
    pass_id: int
    ticket_id: int
    date: dt.date
    slot_id: int


def generate_key():
    "Return a new (private, public) pair of raw 32-byte Ed25519 keys"
    private = Ed25519PrivateKey.generate()
    return private.private_bytes_raw(), private.public_key().public_bytes_raw()


def sign(private_bytes, key_id, pass_id, ticket_id, date, slot_id):
    key = Ed25519PrivateKey.from_private_bytes(private_bytes)
    try:
        payload = _PAYLOAD.pack(
            VERSION, key_id, pass_id, ticket_id,
            date.toordinal() - _EPOCH, slot_id)
    except struct.error as e:  # out of range for its field
        raise ValueError(str(e)) from e
    raw = payload + key.sign(payload)
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip('=')


def _split(code):
    "Return (signed bytes, signature, Payload) or raise InvalidCode"
    # Check type, length and alphabet before decoding anything: the input
    # comes from any scanner or client, whatever its size or content.
    if (not isinstance(code, str) or len(code) != CODE_LENGTH
            or not code.startswith(PREFIX)
            or not _BODY.fullmatch(code, len(PREFIX))):
        raise InvalidCode('malformed pass code')
    raw = base64.urlsafe_b64decode(code[len(PREFIX):])
    signed, signature = raw[:_PAYLOAD.size], raw[_PAYLOAD.size:]
    version, key_id, pass_id, ticket_id, days, slot_id = (
        _PAYLOAD.unpack(signed))
    if version != VERSION:
        raise InvalidCode(f'unknown pass code version {version}')
    try:
        date = dt.date.fromordinal(_EPOCH + days)
    except (ValueError, OverflowError) as e:  # beyond year 9999
        raise InvalidCode('pass code date out of range') from e
    return signed, signature, Payload(
        key_id, pass_id, ticket_id, date, slot_id)


def decode(code):
    "Read a code WITHOUT checking its signature"
    return _split(code)[2]


@functools.lru_cache(maxsize=64)
def _public_key(raw):
    "The key object of raw public bytes (a gate verifies thousands a key)"
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(code, public_keys):
    """Return the Payload of a code signed by public_keys[key_id]; keeping
    retired keys in the mapping keeps their passes valid"""
    signed, signature, payload = _split(code)
    try:
        public = public_keys[payload.key_id]
    except KeyError:
        raise InvalidCode(f'unknown key id {payload.key_id}') from None
    try:
        _public_key(public).verify(signature, signed)
    except InvalidSignature:
        raise InvalidCode('bad pass code signature') from None
    return payload


def qr_png(code, box_size=8, border=2):
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=box_size, border=border, image_factory=PilImage)
    qr.add_data(code)
    qr.make(fit=True)
    data = io.BytesIO()
    qr.make_image().save(data, format='PNG')
    return data.getvalue()
