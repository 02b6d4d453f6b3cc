"""Reading printed PDFs back in tests: pages as images (to decode barcodes) and as text."""

from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image


class Pdf:
    """An opened PDF; close it (the test fixtures that make them do)."""

    def __init__(self, data: bytes) -> None:
        assert data.startswith(b"%PDF-")
        self.doc = pdfium.PdfDocument(data)

    def __len__(self) -> int:
        return len(self.doc)

    def image(self, page: int = 0, dpi: int = 300) -> Image.Image:
        image: Image.Image = self.doc[page].render(scale=dpi / 72, grayscale=True).to_pil()
        return image

    def text(self, page: int) -> str:
        textpage = self.doc[page].get_textpage()
        try:
            return str(textpage.get_text_range())
        finally:
            textpage.close()

    def all_text(self) -> str:
        return "\n".join(self.text(i) for i in range(len(self)))

    def close(self) -> None:
        self.doc.close()


def decoded(image: Image.Image) -> dict[str, list[str]]:
    """Every barcode on the image: format name → texts."""
    found: dict[str, list[str]] = {}
    for result in zxingcpp.read_barcodes(image):
        found.setdefault(result.format.name, []).append(result.text)
    return found
