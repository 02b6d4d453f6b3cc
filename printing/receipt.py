"""Counter receipts for ESC/POS thermal printers (80 mm: 48 columns, 58 mm: 32 columns).

``render_receipt`` writes a :class:`~app.domain.receipts.Receipt` on python-escpos's ``Dummy``
printer and returns the bytes; a transport (raw TCP 9100, a raw CUPS queue, USB) carries them.
:class:`Ticket` is the column writer the cash report's receipt-width variant shares.

Text encoding: ESC/POS printers print one byte per character from a selectable code page.
Text goes through python-escpos's magic encoding, limited to four Epson code pages that Epson
and nearly every compatible printer number alike: PC858 (Western European with €, 19),
PC852 (Central European, 18), PC866 (Cyrillic, 17) and PC737 (Greek, 14). Each character is
printed from the first of them that has it, switching pages with ``ESC t`` where needed; so
"Müller", "Łódź", "Дмитрий" and "Σοφία" print as written. Characters no page has (Chinese,
emoji, ...) print as "?". Control characters in data are printed as spaces, never sent as
commands. Column widths count characters, which holds because every character is one column.

python-escpos is imported on first use (about 0.3 s); its capabilities cache is kept in the
user cache folder instead of a new temporary folder per process.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import textwrap
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import suppress
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

from app.config import APP_NAME
from app.domain.documents import CompanyProfile
from app.domain.errors import PrintError
from app.domain.receipts import Receipt, ReceiptLine, TaxLine, TenderKind
from printing.text import format_date

log = logging.getLogger(__name__)

#: Printable dots across the paper with font A (12 × 24 dots) on a 203 dpi head.
PAPER_DOTS = {48: 576, 32: 384}
PROFILE = "TM-T20II"
#: Epson's numbers for the code pages text may use, in the order they are tried.
CODE_PAGES = {"CP858": 19, "CP852": 18, "CP866": 17, "CP737": 14}
_FIRST_PAGE = "CP858"
LOGO_MAX_HEIGHT_DOTS = 160  # 20 mm: a logo, not a poster
BARCODE_HEIGHT_DOTS = 64
CODE128_QUIET_MODULES = 10

BarcodeKind = Literal["code128", "qr"]

_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "XOF": 0, "XAF": 0}
_MINOR_DIGITS |= dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3)
#: Languages that write amounts with a decimal comma (Switzerland excepted, see decimal_mark).
_DECIMAL_COMMA = frozenset(
    {"bg", "cs", "da", "de", "el", "es", "et", "fi", "fr", "hr", "hu", "id", "is", "it", "lt"}
    | {"lv", "nb", "nl", "nn", "no", "pl", "pt", "ro", "ru", "sk", "sl", "sr", "sv", "tr", "uk"}
)
_TENDER_WORDS = {TenderKind.CASH: "Cash", TenderKind.CARD: "Card", TenderKind.VOUCHER: "Voucher"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Characters the code pages lack but that have a plain equivalent everyone reads the same.
_PLAIN = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2022": "*",
        "\u00d7": "x",
    }
)


# ----------------------------------------------------------------------------- formatting


def format_money(minor: int, currency: str = "EUR", locale: str = "en_GB") -> str:
    """``minor`` units as a decimal amount, without the currency: 1290 → "12.90" (de: "12,90")."""
    digits = _MINOR_DIGITS.get(currency, 2)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**digits)
    if not digits:
        return f"{sign}{whole}"
    return f"{sign}{whole}{decimal_mark(locale)}{fraction:0{digits}d}"


def format_rate(rate_bp: int, locale: str = "en_GB") -> str:
    """A tax rate in basis points as printed: 1900 → "19%", 550 → "5.5%"."""
    whole, fraction = divmod(rate_bp, 100)
    if not fraction:
        return f"{whole}%"
    return f"{whole}{decimal_mark(locale)}{f'{fraction:02d}'.rstrip('0')}%"


def decimal_mark(locale: str) -> str:
    """The decimal mark amounts are printed with for ``locale`` (en_GB ".", de_DE ",")."""
    language, _, country = locale.replace("-", "_").partition("_")
    comma = language.lower() in _DECIMAL_COMMA and country.upper() != "CH"
    return "," if comma else "."


def tax_codes(rates: Sequence[int]) -> dict[int, str]:
    """The letter each tax rate is printed with, A for the highest."""
    return {rate: chr(ord("A") + i) for i, rate in enumerate(sorted(set(rates), reverse=True))}


def printable(text: str) -> str:
    """``text`` as the receipt printer can print it: composed; typographic quotes and dashes
    as ASCII; control characters as spaces; what no code page has as "?"."""
    if text.isascii():
        return _CONTROL.sub(" ", text)
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text)).translate(_PLAIN)
    chars = _code_page_tables()[1]
    if all(c in chars for c in text):
        return text
    return "".join(c if c in chars else "?" for c in text)


def two_columns(left: str, right: str, width: int) -> str:
    """``left`` and ``right`` on one line of ``width`` characters; ``left`` cut if need be."""
    room = width - len(right) - 1
    if len(left) > room:
        left = left[: room - 3].rstrip() + "..." if room > 3 else left[: max(room, 0)]
    return f"{left:<{room}} {right}" if room >= 0 else right


def wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


# ----------------------------------------------------------------------------- python-escpos


@cache
def _escpos() -> Any:  # also used by the serial and USB transports
    """python-escpos's printer module, imported once with its capabilities cache set up."""
    from platformdirs import user_cache_dir

    folder = Path(user_cache_dir(APP_NAME)) / "escpos"
    with suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    if folder.is_dir():
        os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(folder))
    # WORKAROUND: escpos.capabilities evaluates ``environ.get(..., mkdtemp())`` at import, so it
    # makes an empty temporary folder even when the variable is set. Remove the folders it made
    # (only its own: another thread may be using mkdtemp meanwhile).
    made: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(*args: Any, **kwargs: Any) -> str:
        path: str = real_mkdtemp(*args, **kwargs)
        if str(sys._getframe(1).f_globals.get("__name__", "")).startswith("escpos"):
            made.append(path)
        return path

    # escpos.capabilities also calls logging.basicConfig(), which would add a stderr handler
    # to the root logger when logging is not set up yet (a CLI, a test): undo that.
    root_handlers = list(logging.root.handlers)
    tempfile.mkdtemp = recording_mkdtemp  # type: ignore[assignment]
    try:
        import escpos.printer
    finally:
        tempfile.mkdtemp = real_mkdtemp
        logging.root.handlers[:] = root_handlers
        for path in made:
            with suppress(OSError):
                os.rmdir(path)
    return escpos.printer


@cache
def _code_page_tables() -> tuple[dict[str, Any], frozenset[str]]:
    """Each code page's character table (as python-escpos's Encoder caches them), built once,
    and every character one of them can print."""
    _escpos()
    from escpos.magicencode import Encoder

    encoder = Encoder(CODE_PAGES)
    printable_chars = {chr(i) for i in range(32, 127)}
    for page in CODE_PAGES:
        printable_chars |= set(encoder._get_codepage_char_map(page))
    return encoder.available_characters, frozenset(printable_chars)


def _encoder() -> Any:
    """A magic-encoding code page chooser for one ticket, over the shared tables.

    One per ticket because it remembers which pages it used and prefers them: a shared one
    would make a receipt's bytes depend on the receipts printed before it.
    """
    from escpos.magicencode import Encoder

    encoder = Encoder(CODE_PAGES)
    encoder.available_characters = _code_page_tables()[0]
    return encoder


class Ticket:
    """An ESC/POS document written line by line in font A, ``width`` characters across.

    Style commands are sent only when the style changes; ``bytes()`` ends with a partial cut.
    """

    def __init__(self, width: int) -> None:
        if width not in PAPER_DOTS:
            raise PrintError(
                f"Receipts are {' or '.join(map(str, PAPER_DOTS))} characters wide, not {width} "
                "— check the receipt printer's paper width in the station settings"
            )
        self.width = width
        self.dots = PAPER_DOTS[width]
        self.p: Any = _escpos().Dummy(profile=PROFILE, magic_encode_args={"encoder": _encoder()})
        self.p.hw("INIT")
        self.p.magic.write_with_encoding(_FIRST_PAGE, None)  # ESC @ reset it to page 0
        self._align = "left"
        self._bold = False
        self._size = (1, 1)

    # ------------------------------------------------------------------ text

    def style(
        self, *, align: str = "left", bold: bool = False, size: tuple[int, int] = (1, 1)
    ) -> None:
        if align != self._align:
            self.p.set(align=align)
            self._align = align
        if bold != self._bold:
            self.p.set(bold=bold)
            self._bold = bold
        if size != self._size:
            self.p.set(custom_size=True, width=size[0], height=size[1])  # GS !
            self._size = size

    def line(
        self,
        text: str = "",
        *,
        align: str = "left",
        bold: bool = False,
        size: tuple[int, int] = (1, 1),
    ) -> None:
        self.style(align=align, bold=bold, size=size)
        text = printable(text) + "\n"
        if text.isascii():  # the same bytes in every code page: no need to look for one
            self.p._raw(text.encode("ascii"))
        else:
            self.p.text(text)

    def lines(self, texts: Sequence[str], **style: Any) -> None:
        for text in texts:
            self.line(text, **style)

    def pair(self, left: str, right: str, *, bold: bool = False, height: int = 1) -> None:
        """``left`` and ``right`` on one line, ``right`` ending at the right edge."""
        self.line(
            two_columns(printable(left), printable(right), self.width), bold=bold, size=(1, height)
        )

    def rule(self, char: str = "-") -> None:
        self.line(char * self.width)

    def feed(self) -> None:
        self.line()

    # ------------------------------------------------------------------ graphics and hardware

    def image(self, raster: bytes) -> None:
        """A GS v 0 raster image (as :func:`logo_raster` makes), centred."""
        self.style(align="center")
        self.p._raw(raster)

    def code128(self, data: str) -> bool:
        """``data`` as Code 128 (code set B), centred, widest modules that fit the paper.

        False when it cannot be printed so (non-ASCII, or too long for the paper).
        """
        if not data.isascii() or not data.isprintable():
            return False
        modules = 11 * (len(data) + 3) + 2 + 2 * CODE128_QUIET_MODULES
        module_dots = next((d for d in (3, 2) if d * modules <= self.dots), None)
        if module_dots is None:
            return False
        self.style(align="center")
        # _hw_barcode, not barcode(): barcode() prints "Using hardware barcode renderer" to
        # stdout on every call. Pinned python-escpos==3.1.
        self.p._hw_barcode(
            "{B" + data,
            "CODE128",
            height=BARCODE_HEIGHT_DOTS,
            width=module_dots,
            pos="BELOW",
            font="A",
            align_ct=False,
            function_type="B",
        )
        self.p.text("\n")
        return True

    def qr(self, data: str) -> None:
        from escpos.constants import QR_ECLEVEL_M

        self.style(align="center")
        self.p.qr(data, ec=QR_ECLEVEL_M, size=6 if self.width >= 48 else 5, native=True)
        self.p.text("\n")

    def kick_drawer(self) -> None:
        """Pulse the cash drawer on connector pin 2 (drawer 1): 100 ms on, 100 ms off."""
        self.p.cashdraw(2)

    def bytes(self) -> bytes:
        self.style()
        self.p.cut(mode="PART")  # feeds the last line past the cutter first
        data: bytes = self.p.output
        return data


@lru_cache(maxsize=8)
def _logo_raster(path: str, mtime_ns: int, max_width: int) -> bytes | None:
    """The logo as a GS v 0 raster command, scaled to the paper; None if it cannot be read."""
    del mtime_ns  # part of the cache key only: a replaced logo is read again
    from PIL import Image

    try:
        with Image.open(path) as source:
            image = source.convert("RGBA")
        scale = min(max_width / image.width, LOGO_MAX_HEIGHT_DOTS / image.height, 1.0)
        if scale < 1.0:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        dummy = _escpos().Dummy(profile=PROFILE)
        dummy.image(image, impl="bitImageRaster")
        raster: bytes = dummy.output
    except Exception as exc:  # a receipt without its logo beats no receipt
        log.warning("receipt logo %s cannot be printed (%s); printing without it", path, exc)
        return None
    return raster


def logo_raster(path: str | None, max_width: int) -> bytes | None:
    """The company logo for a receipt ``max_width`` dots wide; None when missing or broken."""
    if not path:
        return None
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError as exc:
        log.warning("receipt logo %s cannot be read (%s); printing without it", path, exc)
        return None
    return _logo_raster(path, mtime, max_width)


# ----------------------------------------------------------------------------- receipt


def render_receipt(
    receipt: Receipt,
    company: CompanyProfile,
    *,
    width_chars: int = 48,
    logo: bool = True,
    open_drawer: bool = False,
    barcode: BarcodeKind = "code128",
) -> bytes:
    """The receipt as ESC/POS bytes for a printer ``width_chars`` wide (48: 80 mm, 32: 58 mm).

    ``barcode`` is how the receipt number is printed for scanning at returns; Code 128 falls
    back to QR when the number is too long for the paper or not ASCII. ``open_drawer`` sends
    the drawer kick first, so the drawer opens while the receipt prints.
    """
    try:
        ticket = Ticket(width_chars)
        if open_drawer:
            ticket.kick_drawer()
        _Receipt(receipt, company, ticket).write(logo=logo, barcode=barcode)
        return ticket.bytes()
    except PrintError:
        raise
    except Exception as exc:  # python-escpos and Pillow raise plain exceptions
        log.exception("receipt %s failed", receipt.number)
        raise PrintError(
            f"Receipt {receipt.number} could not be made ({exc}) — the sale is saved; "
            "reprint it from the receipts list, and report this to the supervisor"
        ) from exc


def company_header(ticket: Ticket, company: CompanyProfile, *, logo: bool) -> None:
    """Logo, name (large) and address, centred: the top of every till document."""
    if logo:
        raster = logo_raster(company.logo_path, ticket.dots)
        if raster is not None:
            ticket.image(raster)
    name = printable(company.name)
    if len(name) * 2 <= ticket.width:
        ticket.line(name, align="center", bold=True, size=(2, 2))
    else:
        ticket.lines(wrap(name, ticket.width), align="center", bold=True, size=(1, 2))
    address = company.address
    place = " ".join(p for p in (address.postcode, address.city) if p)
    for text in (address.line1, address.line2, place, company.phone, company.website):
        if text:
            ticket.lines(wrap(printable(text), ticket.width), align="center")


class _Receipt:
    def __init__(self, receipt: Receipt, company: CompanyProfile, ticket: Ticket) -> None:
        self.r = receipt
        self.company = company
        self.t = ticket
        self.w = ticket.width
        self.codes = tax_codes([line.tax_rate_bp for line in receipt.lines])

    def money(self, minor: int) -> str:
        return format_money(minor, self.r.currency, self.company.locale)

    def write(self, *, logo: bool, barcode: BarcodeKind) -> None:
        t, r = self.t, self.r
        company_header(t, self.company, logo=logo)
        t.feed()
        if r.copy:
            t.line("*** COPY ***", align="center", bold=True, size=(2, 2))
            t.line("Not a receipt for payment", align="center")
            t.feed()
        if r.is_refund:
            t.line("REFUND", align="center", bold=True, size=(2, 2))
            t.feed()
        self._facts()
        t.rule()
        self._lines()
        t.rule()
        self._totals()
        self._tenders()
        t.rule()
        self._taxes()
        if r.footer.strip():
            t.feed()
            for paragraph in r.footer.splitlines():
                t.lines(wrap(printable(paragraph), self.w), align="center")
        t.feed()
        if barcode == "qr" or not t.code128(r.number):
            t.qr(r.number)

    def _facts(self) -> None:
        r, t = self.r, self.t
        local = r.at.astimezone()  # the station's time zone is the shop's
        when = f"{format_date(local)} {local:%H:%M}"
        facts = [(f"Receipt {r.number}", when), (f"Till {r.station}", f"Served by {r.operator}")]
        if r.customer:
            facts.append(("Customer", r.customer))
        if not r.prices_include_tax:
            facts.append(("Prices excluding VAT", ""))
        for left, right in facts:
            if not right:
                t.line(left)
            elif len(left) + len(right) + 1 <= self.w:
                t.pair(left, right)
            else:  # never cut a receipt number or a name: one line each
                t.lines([*wrap(left, self.w), *wrap(right, self.w)])

    def _amount_width(self) -> int:
        amounts = [self.money(x.amount_before_discount_minor) for x in self.r.lines]
        amounts += [self.money(-x.discount_minor) for x in self.r.lines if x.discount_minor]
        return max(map(len, amounts))

    def _lines(self) -> None:
        amount_w = self._amount_width()
        for line in self.r.lines:
            self._item(line, amount_w)

    def _item(self, line: ReceiptLine, amount_w: int) -> None:
        t, w = self.t, self.w
        code = self.codes[line.tax_rate_bp]
        right = f"{self.money(line.amount_before_discount_minor):>{amount_w}} {code}"
        name = printable(line.name)
        if line.qty == 1:
            room = w - len(right) - 1
            names = wrap(name, room)
            t.lines(names[:-1])
            t.line(f"{names[-1]:<{room}} {right}")
        else:
            t.lines(wrap(name, w))
            t.line(two_columns(f"  {line.qty} x {self.money(line.unit_price_minor)}", right, w))
        if line.discount_minor:
            discount = f"{self.money(-line.discount_minor):>{amount_w}} {code}"
            t.line(two_columns("  Discount", discount, w))

    def _totals(self) -> None:
        r, t = self.r, self.t
        if r.discount_minor:
            t.pair("Subtotal", self.money(r.subtotal_minor))
            t.pair("Discounts", self.money(-r.discount_minor))
        if not r.prices_include_tax:  # net lines: the tax is added before the total
            t.pair("Net total", self.money(r.lines_minor))
            t.pair("VAT", self.money(r.tax_minor))
        items = abs(r.item_count)
        label = "REFUND TOTAL" if r.is_refund else "TOTAL"
        t.pair(label, f"{r.currency} {self.money(r.total_minor)}", bold=True, height=2)
        t.line(f"{items} item{'s' if items != 1 else ''}")

    def _tenders(self) -> None:
        r, t = self.r, self.t
        t.feed()
        for tender in r.tenders:
            words = _TENDER_WORDS[tender.kind]
            if r.is_refund:
                words = (
                    f"Refunded to {words.lower()}"
                    if tender.kind is not TenderKind.CASH
                    else ("Cash paid back")
                )
            if tender.reference:
                words += f" {tender.reference}"
            t.pair(words, self.money(tender.amount_minor))
        if not r.is_refund and any(x.kind is TenderKind.CASH for x in r.tenders):
            t.pair("Change", self.money(r.change_minor), bold=True)
        if r.copy:
            t.line("COPY", align="center", bold=True)

    def _taxes(self) -> None:
        tax_table(self.t, self.r.taxes, self.codes, self.money, self.company.locale)


def tax_table(
    ticket: Ticket,
    taxes: Sequence[TaxLine],
    codes: dict[int, str] | None,
    money: Any,
    locale: str,
) -> None:
    """VAT per rate: code, rate, net, VAT, gross; a total row when there is more than one."""
    rows = [
        (codes[t.rate_bp] if codes else "", format_rate(t.rate_bp, locale), *_amounts(t, money))
        for t in taxes
    ]
    if len(taxes) > 1:
        total = TaxLine(
            0,
            sum(t.net_minor for t in taxes),
            sum(t.tax_minor for t in taxes),
            sum(t.gross_minor for t in taxes),
        )
        rows.append(("", "Total", *_amounts(total, money)))
    head = ("", "Rate", "Net", "VAT", "Gross")
    code_w = 2 if codes else 0
    rate_w = max(len(row[1]) for row in [*rows, head]) + 1
    amount_w = max(
        (ticket.width - code_w - rate_w) // 3, max(len(x) for row in rows for x in row[2:]) + 1
    )
    for row in [head, *rows]:
        ticket.line(
            f"{row[0]:<{code_w}}{row[1]:<{rate_w}}" + "".join(f"{x:>{amount_w}}" for x in row[2:]),
            bold=row is head,
        )


def _amounts(tax: TaxLine, money: Any) -> Iterator[str]:
    yield money(tax.net_minor)
    yield money(tax.tax_minor)
    yield money(tax.gross_minor)
