"""Drawing primitives the PDF documents share (packing slip, pick list, return slip).

A document class mixes in :class:`CanvasText` and sets ``c`` (the reportlab canvas), ``f``
(its fonts) and ``measuring`` (True while a layout is measured, not drawn); it says how grey
its secondary text is with :meth:`CanvasText.text_grey` (0: black, for thermal printers that
would dither grey).
"""

from __future__ import annotations

from typing import Any

from printing import text as txt


class CanvasText:
    c: Any
    f: txt.Fonts
    measuring: bool

    def text_grey(self) -> float:
        return 0.0

    def _text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        bold: bool = False,
        align: str = "left",
        grey: bool = False,
        width: float | None = None,
    ) -> None:
        """Draw ``text`` (cut with … to ``width``) unless the layout is only being measured."""
        if self.measuring or not text:
            return
        font = self.f.bold if bold else self.f.regular
        if width is not None:
            text = txt.ellipsize(text, font, size, width)
        c = self.c
        c.setFont(font, size)
        shade = self.text_grey() if grey else 0.0
        if shade:
            c.setFillGray(shade)
        if align == "right":
            c.drawRightString(x, y, text)
        elif align == "center":
            c.drawCentredString(x, y, text)
        else:
            c.drawString(x, y, text)
        if shade:
            c.setFillGray(0)
