"""SSCC numbers: making one for a package and checking one read back from a label.

An SSCC (Serial Shipping Container Code, GS1 AI 00) is 18 digits: an extension digit the
company chooses (0–9), its GS1 company prefix (7 to 10 digits), a serial reference filling the
rest, and a GS1 mod-10 check digit. The check-digit arithmetic comes from biip.
"""

from __future__ import annotations

from app.domain.errors import ValidationError

SSCC_LENGTH = 18
COMPANY_PREFIX_LENGTHS = range(7, 11)

_PAYLOAD = SSCC_LENGTH - 2  # without the extension digit and the check digit


def _check_digit(body: str) -> int:
    # biip loads its GS1 tables on import (~0.1 s): not at station start, on the first SSCC.
    from biip.checksums import gs1_standard_check_digit

    return int(gs1_standard_check_digit(body))


def _is_digits(value: str) -> bool:
    # str.isdigit() also accepts "²" and Arabic-Indic digits; an SSCC is ASCII digits only.
    return value.isascii() and value.isdigit()


def make_sscc(extension_digit: int, company_prefix: str, serial_reference: int) -> str:
    """The 18-digit SSCC of a package, check digit included.

    ``company_prefix`` is the GS1 company prefix as issued (7 to 10 digits, leading zeros
    kept); ``serial_reference`` is the company's running number for packages and must fit the
    digits the prefix leaves (9 with a 7-digit prefix, 6 with a 10-digit one).
    """
    if not 0 <= extension_digit <= 9:
        raise ValidationError(
            f"The SSCC extension digit must be a single digit from 0 to 9, not {extension_digit}"
            " — check the shipping settings"
        )
    prefix = company_prefix.strip()
    if not _is_digits(prefix) or len(prefix) not in COMPANY_PREFIX_LENGTHS:
        raise ValidationError(
            f"The GS1 company prefix {company_prefix!r} must be 7 to 10 digits, as GS1 issued "
            "it — check the company prefix in the shipping settings"
        )
    serial_digits = _PAYLOAD - len(prefix)
    if not 0 <= serial_reference < 10**serial_digits:
        raise ValidationError(
            f"Serial reference {serial_reference} does not fit an SSCC with a {len(prefix)}-digit"
            f" company prefix: it must be 0 to {10**serial_digits - 1} ({serial_digits} digits)"
            " — start a new range of serial numbers or use another extension digit"
        )
    body = f"{extension_digit}{prefix}{serial_reference:0{serial_digits}d}"
    return body + str(_check_digit(body))


def is_valid_sscc(code: str) -> bool:
    """Tell whether ``code`` is 18 ASCII digits whose last one is the right check digit."""
    if len(code) != SSCC_LENGTH or not _is_digits(code):
        return False
    return _check_digit(code[:-1]) == int(code[-1])


def sscc_hri(code: str, company_prefix_length: int | None = None) -> str:
    """The SSCC as printed under its barcode: ``(00) 1 2345678 000000001 8``.

    Grouped as extension digit, company prefix, serial reference and check digit when the
    prefix length is known, else as extension digit, the 16 digits between, check digit.
    """
    if company_prefix_length is not None and company_prefix_length in COMPANY_PREFIX_LENGTHS:
        cut = 1 + company_prefix_length
        return f"(00) {code[0]} {code[1:cut]} {code[cut:-1]} {code[-1]}"
    return f"(00) {code[0]} {code[1:-1]} {code[-1]}"
