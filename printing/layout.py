"""Drawing primitives the PDF documents share (packing slip, pick list, return slip).

A document class mixes in :class:`CanvasText` and sets ``c`` (the reportlab canvas), ``f``
(its fonts) and ``measuring`` (True while a layout is measured, not drawn); it says how grey
its secondary text is with :meth:`CanvasText.text_grey` (0: black, for thermal printers that
would dither grey).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

from app.domain.errors import PrintError
from printing import text as txt

log = logging.getLogger(__name__)


def make_document(name: str, build: Callable[[], bytes]) -> bytes:
    """Run a document's renderer; anything it raises becomes a PrintError in words, so the
    print job stays queued and retryable (reportlab raises plain exceptions)."""
    try:
        return build()
    except PrintError:
        raise
    except Exception as exc:
        log.exception("%s failed", name)
        raise PrintError(
            f"The {name} could not be made ({exc}) — the job is kept; report this to the supervisor"
        ) from exc


def new_canvas(size: tuple[float, float], title: str, author: str) -> tuple[Any, io.BytesIO]:
    """A reportlab canvas with the document's metadata, and the buffer it writes to."""
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    c = Canvas(buf, pagesize=size, invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor(author)
    c.setCreator("Waystation")
    return c, buf


class CanvasText:
    c: Any
    f: txt.Fonts
    measuring: bool

    def text_grey(self) -> float:
        return 0.0

    def _layout(self, total: int) -> int:
        """Lay out (or, while measuring, count) the pages; return how many there are."""
        raise NotImplementedError

    def render_two_pass(self, size: tuple[float, float], title: str, author: str) -> bytes:
        """Measure the pages first (for "Page n of N"), then draw them."""
        self.measuring = True
        total = self._layout(0)
        self.c, buf = new_canvas(size, title, author)
        self.measuring = False
        self._layout(total)
        self.c.save()
        return buf.getvalue()

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
