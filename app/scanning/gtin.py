"""GTIN arithmetic: check digits, validation, and bringing EAN/UPC codes to one GTIN-14 form.

Every product code the station stores or compares is a GTIN-14, so a tin scanned as UPC-A
(036000291452), as EAN-13 (0036000291452) or inside a GS1-128 label (01)00036000291452 is one
product. Check-digit arithmetic and UPC-E expansion come from biip; this module only decides
which reading a bare string of digits gets and words the errors for the person at the bench.

An 8-digit code is ambiguous: it may be an EAN-8 or a UPC-E with its check digit. It is read as
EAN-8 when its check digit fits, else as UPC-E; the same choice biip's own parser makes.
"""

from __future__ import annotations

from app.domain.errors import MalformedScanError

GTIN_LENGTHS = frozenset({8, 12, 13, 14})
"""Lengths a GTIN can have as printed: GTIN-8 (EAN-8), GTIN-12 (UPC-A), GTIN-13, GTIN-14."""

_RESCAN = "scan it again or type the number printed under the bars"


def _is_digits(value: str) -> bool:
    # str.isdigit() also accepts "²" and Arabic-Indic digits; a barcode only carries ASCII.
    return value.isascii() and value.isdigit()


def gtin_check_digit(body: str) -> int:
    """Return the GS1 check digit for ``body`` (a GTIN, SSCC... without its last digit)."""
    if not body or not _is_digits(body):
        msg = f"{body!r} is not a number, so it has no check digit — {_RESCAN}"
        raise MalformedScanError(msg)
    from biip.checksums import gs1_standard_check_digit  # biip loads with the first scan

    return gs1_standard_check_digit(body)


def is_valid_gtin(code: str) -> bool:
    """Tell whether ``code`` is an 8, 12, 13 or 14-digit GTIN whose check digit is right."""
    if len(code) not in GTIN_LENGTHS or not _is_digits(code):
        return False
    return gtin_check_digit(code[:-1]) == int(code[-1])


def upce_to_upca(code: str) -> str:
    """Expand a UPC-E code (6, 7 or 8 digits) to its 12-digit UPC-A form.

    Six digits carry neither number system nor check digit (number system 0 is assumed and
    the check digit computed); seven digits add the number system; eight add the check digit,
    which must be right.
    """
    code = code.strip()
    if len(code) not in (6, 7, 8) or not _is_digits(code):
        msg = f"{code!r} is not a UPC-E code (6 to 8 digits) — {_RESCAN}"
        raise MalformedScanError(msg)
    if len(code) > 6 and code[0] not in "01":
        msg = f"{code} is not a UPC-E code: UPC-E starts with 0 or 1 — {_RESCAN}"
        raise MalformedScanError(msg)
    from biip import ParseError
    from biip.upc import Upc

    try:
        upc = Upc.parse(code)
    except ParseError as exc:
        # The only failure left after the checks above is the check digit.
        msg = f"{code} has a wrong check digit — {_RESCAN}"
        raise MalformedScanError(msg) from exc
    return upc.as_upc_a()


def to_gtin14(code: str) -> str:
    """Return ``code`` as a GTIN-14: 14 digits, zero-padded on the left.

    Accepts GTIN-14, EAN-13, UPC-A (12), EAN-8, and UPC-E (8 digits, or 6/7 without the
    check digit; expanded to UPC-A first). Raises MalformedScanError on a wrong check digit
    or a length that is no GTIN.
    """
    code = code.strip()
    if not _is_digits(code):
        msg = f"{code!r} is not a product number: it must be digits only — {_RESCAN}"
        raise MalformedScanError(msg)
    if len(code) in (6, 7):
        return upce_to_upca(code).zfill(14)
    if len(code) not in GTIN_LENGTHS:
        msg = (
            f"{code} is not a product number: a GTIN has 8, 12, 13 or 14 digits, "
            f"this one has {len(code)} — {_RESCAN}"
        )
        raise MalformedScanError(msg)
    if is_valid_gtin(code):
        return code.zfill(14)
    if len(code) == 8 and code[0] in "01":
        try:
            return upce_to_upca(code).zfill(14)
        except MalformedScanError:
            pass  # neither reading fits: report it as the check digit it most likely is
    msg = f"{code} has a wrong check digit — {_RESCAN}"
    raise MalformedScanError(msg)
