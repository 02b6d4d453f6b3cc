"""What the returns desk prints: the tag for a unit that does not go back to a bin (a PDF
label, 4×2 inch by default) headed with where it goes (QUARANTINE, REFURBISH, SCRAP, RETURN TO
VENDOR), with the RMA number as Code 128 laid out on the printer's dot grid, so scanning the
tag finds the return. Product labels and the RMA's return slip are the existing
documents (:mod:`printing.labels`, :mod:`printing.return_slip`).
"""

from __future__ import annotations

from app.domain.returns import QuarantineTag
from printing import barcodes
from printing import text as txt
from printing.barcodes import DotGrid
from printing.layout import make_document, new_canvas

INCH = 72.0
SIZES = {"4x2in": (4 * INCH, 2 * INCH), "4x6in": (4 * INCH, 6 * INCH)}


def render_quarantine_tag(tag: QuarantineTag, *, size: str = "4x2in", dpi: int = 203) -> bytes:
    return make_document("quarantine tag", lambda: _render(tag, size, dpi))


def _render(tag: QuarantineTag, size: str, dpi: int) -> bytes:
    w, h = SIZES.get(size, SIZES["4x2in"])
    order = f"Order {tag.order_number}" + (f"  ·  serial {tag.serial}" if tag.serial else "")
    lines = [
        f"{tag.sku}  {tag.name}",
        order,
        f"{tag.condition.label}"
        + (f"  ·  {tag.reason.label}" if tag.reason else "  ·  not on the return"),
        f"{txt.format_date(tag.received_at)}  {tag.received_by}",
    ]
    fonts = txt.fonts_for([*lines, tag.rma_number])
    c, buf = new_canvas((w, h), f"{tag.disposition.label} {tag.rma_number}", "Waystation")
    margin = 0.12 * INCH
    grid = DotGrid(dpi, h)
    y = h - margin - 16
    c.setFont(fonts.bold, 18)
    c.drawString(margin, y, tag.heading)
    room = w - 2 * margin - c.stringWidth(tag.heading, fonts.bold, 18) - 8
    if c.stringWidth(tag.rma_number, fonts.bold, 11) <= room:
        c.setFont(fonts.bold, 11)
        c.drawRightString(w - margin, y + 2, tag.rma_number)
    else:  # a long heading (RETURN TO VENDOR): the number on a line of its own, whole
        lines.insert(1, tag.rma_number)
    c.setFont(fonts.regular, 8.5)
    for line in lines:
        y -= 11
        c.drawString(margin, y, txt.ellipsize(line, fonts.regular, 8.5, w - 2 * margin))
    modules = barcodes.code128_bars(tag.rma_number)[1]
    module = barcodes.fit_module_dots(modules, w - 2 * margin, grid, min_dots=2, max_dots=4)
    barcodes.draw_code128(
        c,
        tag.rma_number,
        x=margin,
        y=grid.snap_y(margin),
        height=max(18.0, y - 6 - margin),
        grid=grid,
        module_dots=module,
    )
    c.showPage()
    c.save()
    return buf.getvalue()
