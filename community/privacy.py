"""Residents' personal data (PIPL arts. 28, 51): national ID numbers and phones.

ID numbers are validated against GB 11643 (the check digit), encrypted with Fernet
(keys from the environment, newest first so keys can rotate), looked up and kept unique
through a keyed hash (HMAC-SHA256: without the key a hash cannot be brute-forced from
the ~10^9 plausible numbers), and shown masked: 110105********0123.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.phone import mask_phone

__all__ = [
    "decrypt_id_number",
    "encrypt_id_number",
    "hash_id_number",
    "mask_id_number",
    "mask_phone",
    "normalize_id_number",
    "validate_id_number",
]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def normalize_id_number(raw: str) -> str:
    """Upper-case the check character and drop spaces: '110105 1990 0101 001x' -> '…001X'."""
    return re.sub(r"\s", "", raw or "").upper()


def id_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def validate_id_number(value: str) -> None:
    """An 18-character resident ID: shape, a real birth date, and the GB 11643 check digit."""
    if not _SHAPE.match(value or ""):
        raise ValidationError(_("An ID number has 17 digits and a final digit or X."), "id_shape")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date in the ID number is not a real date."), "id_date"
        ) from None
    if not dt.date(1900, 1, 1) <= birth <= dt.date.today():
        raise ValidationError(_("The birth date in the ID number is out of range."), "id_date")
    if id_check_digit(value[:17]) != value[17]:
        raise ValidationError(_("The ID number's check digit is wrong."), "id_checksum")


def birth_date_from_id(value: str) -> dt.date:
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def gender_from_id(value: str) -> str:
    """The 17th digit is odd for men and even for women."""
    return "male" if int(value[16]) % 2 else "female"


def mask_id_number(value: str | None) -> str:
    """'110105199001010123' -> '110105********0123' (region code and last 4 only)."""
    if not value:
        return ""
    if len(value) != 18:
        return "*" * len(value)
    return f"{value[:6]}{'*' * 8}{value[-4:]}"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("LINLI_FIELD_KEYS is not set: ID numbers cannot be encrypted")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt_id_number(value: str) -> str:
    return _fernet(tuple(settings.LINLI_FIELD_KEYS)).encrypt(value.encode()).decode()


def decrypt_id_number(token: str) -> str:
    if not token:
        return ""
    return _fernet(tuple(settings.LINLI_FIELD_KEYS)).decrypt(token.encode()).decode()


def hash_id_number(value: str) -> str:
    if not settings.LINLI_HASH_KEY:
        raise ImproperlyConfigured("LINLI_HASH_KEY is not set: ID numbers cannot be looked up")
    key = settings.LINLI_HASH_KEY.encode()
    return hmac.new(key, normalize_id_number(value).encode(), hashlib.sha256).hexdigest()


# An ID number (18 chars) or a mobile number (11 digits starting with 1) anywhere in text.
_ID_IN_TEXT = re.compile(r"(?<![\dA-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    """Mask every ID or mobile number found in free text (log lines, error messages)."""
    text = _ID_IN_TEXT.sub(lambda m: f"{m[1]}********{m[2]}", text)
    return _PHONE_IN_TEXT.sub(lambda m: f"{m[1]}****{m[2]}", text)


class MaskPersonalDataFilter(logging.Filter):
    """Logging filter: no log line leaves the process with a whole ID or phone number.

    The message, and the traceback text of an error: it is formatted here (formatters
    reuse `exc_text` once set), because an exception message or a local URL in it may
    carry a number too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logged as it is
            message = None
        if message is not None:
            masked = mask_text(message)
            if masked != message:
                record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True
