"""Money in the words the core's messages use: ``EUR 12.90`` (the screens format for the locale)."""

from __future__ import annotations

from app.domain.errors import ValidationError

_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3}


def minor_digits(currency: str) -> int:
    return _MINOR_DIGITS.get(currency, 2)


def money(minor: int, currency: str = "EUR") -> str:
    digits = minor_digits(currency)
    sign = "-" if minor < 0 else ""
    scale: int = 10**digits
    whole, fraction = divmod(abs(minor), scale)
    amount = f"{whole}.{fraction:0{digits}d}" if digits else f"{whole}"
    return f"{currency} {sign}{amount}"


def parse_money(text: str, currency: str = "EUR") -> int:
    """A typed amount ("12,90", "12.9", "12") in minor units, or words saying how to type it."""
    try:
        return _parse(text, currency)
    except ValueError:
        raise ValidationError(
            f"{text.strip() or 'Nothing'} is not an amount — type it like 12.90."
        ) from None


def _parse(text: str, currency: str) -> int:
    cleaned = text.strip().replace(" ", "").removeprefix(currency).strip()
    cleaned = cleaned.replace(",", ".")
    if not cleaned or cleaned.count(".") > 1:
        raise ValueError(text)
    whole, _, fraction = cleaned.partition(".")
    digits = minor_digits(currency)
    if not (whole or fraction) or not (whole + fraction).isascii():
        raise ValueError(text)
    if not (whole.isdigit() or whole == "") or not (fraction.isdigit() or fraction == ""):
        raise ValueError(text)
    if len(fraction) > digits:
        raise ValueError(text)
    scale: int = 10**digits
    return int(whole or "0") * scale + int((fraction or "0").ljust(digits, "0") or "0")
