"""Warehouse labels as ZPL II, for Zebra and Zebra-compatible thermal printers.

The layout is :mod:`printing.labels`' own, in the printer's dots, so a ZPL label and its PDF
put every element on the same dots; only the drawing differs:

* each label is one ``^XA ... ^XZ`` format; several labels are several formats in one job;
* ``^CI28``: field data is UTF-8. Text uses the printer's scalable font 0 (``^A0``), which
  prints Western European letters. A label with Greek, Cyrillic or other letters has its
  lines drawn here with the PDF's DejaVu font and sent as ``^GFA`` bitmaps: not every
  printer carries a Unicode font, and one that lacks it would print boxes or overprint;
* every text field goes through ``^FH``: ``^``, ``~`` and ``_`` in data are sent as ``_5E``,
  ``_7E`` and ``_5F``, so an address cannot end a field or start a command;
* GS1-128 is sent in ZPL's "no selection" mode with the exact code values the PDF uses
  (reportlab's encoder picks the code sets): ``>;`` starts in set C, ``>:`` in set B, ``>5``,
  ``>6`` switch to C and B, and ``>8`` is FNC1. The SSCC is thus
  ``^BCN,h,N,N,N,N^FD>;>800123456780000000019^FS``: start C, FNC1, AI 00, the 18 digits.
  Plain Code 128 (tracking numbers, bins, totes) goes in automatic mode (``^BC...,A``) with
  the data as it is: the printer packs digit runs into set C. (Mode N with a ``>5`` switch in
  the middle would give the same symbol as the PDF, but the zebrash renderer the tests read
  ZPL back with misreads ``>5``.) A code holding ``>`` falls back to mode N, where it is ``>0``;
* EAN-13 uses ``^BE`` with the first 12 digits; the printer adds the check digit and the
  digits underneath;
* the company logo is sent as a ``^GFA`` bitmap, dithered to black and white.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from app.domain.documents import CompanyProfile
from app.domain.errors import PrintError
from app.domain.labels import BinLabel, ProductLabel, ShippingLabel, ToteLabel
from printing import labels as lay
from printing import text as txt

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-zpl"

#: Font 0's cap height is about 0.8 of the cell height ``h`` of ``^A0N,h,w``, Helvetica's
#: 0.72 of its em: this makes the ZPL letters as tall as the PDF's.
_CELL_PER_EM = 0.9
#: Regular text is printed narrower: font 0 has one weight, and must fit where the PDF's
#: regular face was measured.
_REGULAR_WIDTH = 0.85

_ESCAPES = {"^": "_5E", "~": "_7E", "_": "_5F", "\\": "_5C"}
_START = {103: (">9", "A"), 104: (">:", "B"), 105: (">;", "C")}


def shipping_label_zpl(label: ShippingLabel, company: CompanyProfile, *, dpi: int = 203) -> bytes:
    """The 4×6 inch shipping label of one package as ZPL."""
    return shipping_labels_zpl([label], company, dpi=dpi)


def shipping_labels_zpl(
    labels: Sequence[ShippingLabel], company: CompanyProfile, *, dpi: int = 203
) -> bytes:
    """Shipping labels of several packages as one ZPL job, one format each."""
    return _render(labels, company, "4x6in", dpi, "Shipping labels")


def product_labels_zpl(
    labels: Sequence[ProductLabel],
    company: CompanyProfile,
    *,
    size: str = "50x30mm",
    dpi: int = 203,
) -> bytes:
    """Product labels as ZPL (see :func:`printing.labels.render_product_labels`)."""
    return _render(labels, company, size, dpi, "Product labels")


def bin_labels_zpl(labels: Sequence[BinLabel], *, size: str = "4x2in", dpi: int = 203) -> bytes:
    """Bin location labels as ZPL."""
    return _render(labels, None, size, dpi, "Bin labels")


def tote_labels_zpl(labels: Sequence[ToteLabel], *, size: str = "4x3in", dpi: int = 203) -> bytes:
    """Tote labels as ZPL."""
    return _render(labels, None, size, dpi, "Tote labels")


def _render(
    labels: Sequence[lay.Label],
    company: CompanyProfile | None,
    size: str,
    dpi: int,
    title: str,
) -> bytes:
    if not labels:
        raise PrintError("There are no labels to print — choose at least one")
    stock = lay.label_size(size, dpi)
    try:
        fonts = txt.fonts_for(lay.label_texts(labels, company))
        pages = lay.layout_pages(labels, company, stock, fonts)
        bitmap_text = fonts != txt.STANDARD
        return "".join(_format(page, bitmap_text) for page in pages).encode("utf-8")
    except PrintError:
        raise
    except Exception as exc:  # keep the job: a bug here must not lose the label
        log.exception("%s could not be made as ZPL", title)
        raise PrintError(
            f"{title} could not be made ({exc}) — the job is kept; report this to the supervisor"
        ) from exc


def _format(page: lay.Page, bitmap_text: bool) -> str:
    size = page.size
    out = [f"^XA^CI28^PW{size.width}^LL{size.height}^LH0,0^PON^MMT\n"]
    for op in page.ops:
        if isinstance(op, lay.Text):
            out.append(_text_bitmap(op) if bitmap_text else _text(op))
        elif isinstance(op, lay.Box):
            thickness = op.thickness or min(op.w, op.h)
            out.append(f"^FO{op.x},{op.y}^GB{op.w},{op.h},{thickness},B,0^FS\n")
        elif isinstance(op, lay.Code128):
            mode, data = code128_field(op)
            out.append(
                f"^FO{op.x},{op.y}^BY{op.module},3,{op.height}"
                f"^BCN,{op.height},N,N,N,{mode}^FH^FD{data}^FS\n"
            )
        elif isinstance(op, lay.Ean13):
            out.append(
                f"^FO{op.x},{op.y}^BY{op.module},3,{op.height}"
                f"^BEN,{op.height},Y,N^FD{op.code[:12]}^FS\n"
            )
        else:
            out.append(_logo(op))
    out.append("^PQ1^XZ\n")
    return "".join(out)


def escape(text: str) -> str:
    """Field data safe inside ``^FH^FD...^FS``: control characters become spaces."""
    return "".join(_ESCAPES.get(ch, ch) if ch >= " " else " " for ch in text if ch != "\x7f")


def _text(op: lay.Text) -> str:
    h = max(10, round(op.size * _CELL_PER_EM))
    w = h if op.bold else max(10, round(h * _REGULAR_WIDTH))
    top = op.y - round(h * 0.8)
    reverse = "^FR" if op.inverse else ""
    if op.align == "L":
        where = f"^FO{op.x},{top}"
    else:
        # A one-line field block centres or right-aligns the line in the printer's own metrics.
        where = f"^FO{op.x},{top}^FB{op.width},1,0,{op.align},0"
    return f"{where}^A0N,{h},{w}{reverse}^FH^FD{escape(op.text)}^FS\n"


def _text_bitmap(op: lay.Text) -> str:
    """The line drawn here with the PDF's own font and sent as a ``^GFA`` bitmap."""
    from PIL import Image, ImageDraw

    font = _truetype(op.bold, op.size)
    ascent, descent = font.getmetrics()
    width = max(1, math.ceil(font.getlength(op.text)))
    image = Image.new("1", (width, ascent + descent), 0)
    ImageDraw.Draw(image).text((0, 0), op.text, font=font, fill=1)  # 1 = a printed dot
    x = op.x
    if op.align == "C":
        x += (op.width - width) // 2
    elif op.align == "R":
        x += op.width - width
    reverse = "^FR" if op.inverse else ""
    return f"^FO{x},{op.y - ascent}{reverse}{_gfa(image)}^FS\n"


@lru_cache(maxsize=32)
def _truetype(bold: bool, size: int) -> Any:
    from PIL import ImageFont

    name = "DejaVuSansCondensed-Bold.ttf" if bold else "DejaVuSansCondensed.ttf"
    return ImageFont.truetype(str(txt.FONT_DIR / name), size)


def _gfa(image: Any) -> str:
    """A mode "1" PIL image whose 1 bits are printed dots, as ``^GFA`` ASCII hex."""
    row = (image.width + 7) // 8
    total = row * image.height
    return f"^GFA,{total},{total},{row},{image.tobytes().hex().upper()}"


def code128_field(op: lay.Code128) -> tuple[str, str]:
    """``(mode, field data)`` of a ``^BC`` barcode.

    GS1-128 (FNC1) goes in "no selection" mode (N) as the exact code values; plain data in
    automatic mode (A), where the printer picks the code sets itself.
    """
    if op.text is not None and ">" not in op.text:
        return "A", escape(op.text)
    return "N", code128_values_field(op.values)


def code128_values_field(values: Sequence[int]) -> str:
    """Code 128 code values (start first) as ``^BC`` field data in "no selection" mode."""
    start, subset = _START[values[0]]
    out = [start]
    for v in values[1:]:
        if v == 102:
            out.append(">8")  # FNC1
        elif subset == "C":
            if v == 100:
                out.append(">6")
                subset = "B"
            elif v == 101:
                out.append(">7")
                subset = "A"
            else:
                out.append(f"{v:02d}")
        elif v == 99:
            out.append(">5")
            subset = "C"
        elif subset == "B" and v == 101:
            out.append(">7")
            subset = "A"
        elif subset == "A" and v == 100:
            out.append(">6")
            subset = "B"
        elif v == 30:
            out.append(">0")  # ">" itself
        elif subset == "B" and v < 95:
            out.append(escape(chr(v + 32)))
        else:
            # Subset A is only chosen for control characters, which labels refuse upstream.
            raise ValueError(f"Code 128 value {v} in subset {subset} has no ZPL spelling here")
    return "".join(out)


def _logo(op: lay.Logo) -> str:
    graphic = _logo_graphic(op.path, op.w, op.h)
    if graphic is None:
        return ""
    width, data = graphic
    return f"^FO{op.x + op.w - width},{op.y}{data}^FS\n"


def _logo_graphic(path: str, box_w: int, box_h: int) -> tuple[int, str] | None:
    try:
        mtime_ns = os.stat(path).st_mtime_ns
    except OSError:
        return None  # labels.layout_pages already logged it and left the logo out
    return _graphic(path, mtime_ns, box_w, box_h)


@lru_cache(maxsize=16)
def _graphic(path: str, mtime_ns: int, box_w: int, box_h: int) -> tuple[int, str] | None:
    """The logo fitted into the box as ``^GFA`` data: (width in dots, command).

    Cached by file and modification time: a replaced logo is read again.
    """
    from PIL import Image, ImageOps

    del mtime_ns  # part of the cache key only
    image = lay._logo_image(path)
    if image is None:
        return None

    scale = min(box_w / image.width, box_h / image.height)
    w, h = max(1, int(image.width * scale)), max(1, int(image.height * scale))
    mono = ImageOps.invert(image.resize((w, h), Image.Resampling.LANCZOS)).convert("1")
    return w, _gfa(mono)  # 1 = ink after the inversion
