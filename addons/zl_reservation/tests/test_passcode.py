# This file is part of zhonglian-ticketing. See README.md for the licence.
import base64
import datetime as dt
import io
import string
import struct

import pytest
from PIL import Image

from trytond.modules.zl_reservation import passcode

InvalidCode = passcode.InvalidCode
B64URL = string.ascii_letters + string.digits + '-_'
DATE = dt.date(2025, 10, 1)


@pytest.fixture(scope='module')
def keys():
    return passcode.generate_key()


@pytest.fixture(scope='module')
def code(keys):
    return passcode.sign(keys[0], 1, 123456789012, 42, DATE, 7)


def _encode(payload, signature=bytes(64)):
    raw = base64.urlsafe_b64encode(payload + signature)
    return 'ZL1' + raw.decode().rstrip('=')


def test_generate_key():
    private, public = passcode.generate_key()
    assert len(private) == len(public) == 32
    assert private != public
    assert passcode.generate_key()[0] != private


def test_round_trip(keys, code):
    private, public = keys
    assert code.startswith('ZL1')
    assert len(code) == passcode.CODE_LENGTH == 3 + 116
    assert set(code[3:]) <= set(B64URL)
    expected = passcode.Payload(
        key_id=1, pass_id=123456789012, ticket_id=42, date=DATE, slot_id=7)
    assert passcode.decode(code) == expected
    assert passcode.verify(code, {1: public}) == expected


@pytest.mark.parametrize('values', [
        (0, 0, 0, dt.date(1970, 1, 1), 0),
        (2**16 - 1, 2**64 - 1, 2**32 - 1, dt.date(9999, 12, 31), 2**32 - 1),
        (3, 1, 2, dt.date(2000, 2, 29), 4),
        ])
def test_round_trip_limits(keys, values):
    code = passcode.sign(keys[0], *values)
    assert tuple(passcode.verify(code, {values[0]: keys[1]})) == values


def test_payload_layout(keys, code):
    # The layout is a contract with offline gates: pin it.
    raw = base64.urlsafe_b64decode(code[3:])
    assert len(raw) == 23 + 64
    assert struct.unpack('>BHQIII', raw[:23]) == (
        1, 1, 123456789012, 42, (DATE - dt.date(1970, 1, 1)).days, 7)


@pytest.mark.parametrize('values', [
        (-1, 1, 1, DATE, 1),
        (2**16, 1, 1, DATE, 1),
        (1, 2**64, 1, DATE, 1),
        (1, 1, -1, DATE, 1),
        (1, 1, 1, dt.date(1969, 12, 31), 1),
        (1, 1, 1, DATE, 2**32),
        ])
def test_sign_out_of_range(keys, values):
    with pytest.raises(ValueError):
        passcode.sign(keys[0], *values)


def test_any_changed_character_fails(keys, code):
    public_keys = {1: keys[1]}
    for i, char in enumerate(code):
        for other in B64URL:
            if other == char:
                continue
            changed = code[:i] + other + code[i + 1:]
            with pytest.raises(InvalidCode):
                passcode.verify(changed, public_keys)


def test_other_key_same_key_id_fails(keys, code):
    _, other_public = passcode.generate_key()
    with pytest.raises(InvalidCode):
        passcode.verify(code, {1: other_public})
    # decode does not check signatures: it still reads the code.
    assert passcode.decode(code).pass_id == 123456789012


def test_forged_with_other_private_key_fails(keys):
    forger, _ = passcode.generate_key()
    forged = passcode.sign(forger, 1, 123456789012, 42, DATE, 7)
    with pytest.raises(InvalidCode):
        passcode.verify(forged, {1: keys[1]})


def test_unknown_key_id_fails(keys, code):
    with pytest.raises(InvalidCode):
        passcode.verify(code, {2: keys[1]})
    with pytest.raises(InvalidCode):
        passcode.verify(code, {})


def test_key_rotation():
    old_private, old_public = passcode.generate_key()
    new_private, new_public = passcode.generate_key()
    old = passcode.sign(old_private, 1, 10, 1, DATE, 1)
    new = passcode.sign(new_private, 2, 11, 1, DATE, 1)
    public_keys = {1: old_public, 2: new_public}
    assert passcode.verify(old, public_keys).pass_id == 10
    assert passcode.verify(new, public_keys).pass_id == 11
    # Once the old key is retired, its passes are refused.
    with pytest.raises(InvalidCode):
        passcode.verify(old, {2: new_public})


def test_signature_binds_payload(keys, code):
    # A genuine signature moved onto another payload (pass id + 1).
    raw = base64.urlsafe_b64decode(code[3:])
    payload = bytearray(raw[:23])
    payload[10] ^= 1
    moved = _encode(bytes(payload), raw[23:])
    assert passcode.decode(moved).pass_id != 123456789012
    with pytest.raises(InvalidCode):
        passcode.verify(moved, {1: keys[1]})


GARBAGE = [
    None, 0, 12345, 1.5, b'ZL1', [], {}, object(),
    '', 'ZL1', 'ZL', 'zl1', 'ZL1' + 'A' * 115, 'ZL1' + 'A' * 117,
    'ZL1' + 'A' * 116,  # version 0
    'X' * 119, 'ZL1' + '=' * 116, 'ZL1' + '+' * 116, 'ZL1' + '/' * 116,
    'ZL1' + '票' * 116, 'ZL1' + '０' * 116, 'ZL1' + 'é' * 116,
    'ZL1' + 'A' * 114 + '==', 'ZL1' + '\x00' * 116, 'ZL1' + ' ' * 116,
    'ZL1' + 'A' * 10**6, '\ud800' * 119, 'ZL1\n' + 'A' * 115,
    _encode(struct.pack('>BHQIII', 2, 1, 1, 1, 1, 1)),  # version 2
    _encode(struct.pack('>BHQIII', 255, 1, 1, 1, 1, 1)),
    # Version 1 but a date past year 9999.
    _encode(struct.pack('>BHQIII', 1, 1, 1, 1, 2**32 - 1, 1)),
    _encode(struct.pack('>BHQIII', 1, 1, 1, 1, 3000000, 1)),
    ]


@pytest.mark.parametrize('garbage', GARBAGE, ids=range(len(GARBAGE)))
def test_garbage(keys, garbage):
    with pytest.raises(InvalidCode):
        passcode.decode(garbage)
    with pytest.raises(InvalidCode):
        passcode.verify(garbage, {1: keys[1]})


def test_garbage_with_whitespace(code):
    # Scanners may add line ends: callers strip, the codec stays strict.
    for changed in [code + '\n', ' ' + code, code[:50] + ' ' + code[51:]]:
        with pytest.raises(InvalidCode):
            passcode.decode(changed)


def test_invalid_code_is_value_error():
    assert issubclass(InvalidCode, ValueError)


def _png_size(data):
    image = Image.open(io.BytesIO(data))
    assert image.format == 'PNG'
    image.load()
    return image.size


def test_qr_png(code):
    width, height = _png_size(passcode.qr_png(code))
    assert width == height
    # 119 bytes need a version 7 symbol (45 modules) at level M; L would
    # fit version 6, Q version 9.
    assert width == (45 + 2 * 2) * 8
    assert _png_size(passcode.qr_png(code, box_size=4, border=4)) == (
        ((45 + 2 * 4) * 4,) * 2)


def test_qr_png_grows_with_box_size(code):
    sizes = [_png_size(passcode.qr_png(code, box_size=box))[0]
        for box in (2, 4, 8, 16)]
    assert sizes == sorted(set(sizes))
