"""The tag the returns desk prints for a unit that does not go back to a bin: its RMA number
scans back from the printed barcode at thermal resolutions, and it says in words what the unit
is and where it goes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.returns import Condition, Disposition, QuarantineTag, Reason
from printing.returns_docs import render_quarantine_tag
from tests.pdf_reading import Pdf, decoded

TAG = QuarantineTag(
    rma_number="RMA-DESK-1-00042",
    order_number="SO-100231",
    sku="NW-0000017",
    name="Trail running shoe, größe 42",
    serial="SN0042",
    condition=Condition.DAMAGED,
    reason=Reason.DAMAGED,
    received_at=datetime(2026, 5, 4, 10, 30, tzinfo=UTC),
    received_by="Robin Returns",
)


@pytest.mark.parametrize("dpi", [203, 300])
def test_the_tag_scans_back_and_names_the_unit(dpi: int) -> None:
    pdf = Pdf(render_quarantine_tag(TAG, dpi=dpi))
    try:
        assert len(pdf) == 1
        assert decoded(pdf.image(0, dpi))["Code128"] == ["RMA-DESK-1-00042"]
        text = pdf.all_text()
        for words in ("QUARANTINE", "NW-0000017", "größe 42", "SO-100231", "SN0042", "Damaged"):
            assert words in text
    finally:
        pdf.close()


def test_a_unit_not_on_the_return_says_so() -> None:
    from dataclasses import replace

    pdf = Pdf(render_quarantine_tag(replace(TAG, reason=None, serial=None)))
    try:
        assert "not on the return" in pdf.all_text()
    finally:
        pdf.close()


@pytest.mark.parametrize(
    ("disposition", "heading"),
    [
        (Disposition.REFURBISH, "REFURBISH"),
        (Disposition.SCRAP, "SCRAP"),
        (Disposition.RETURN_TO_VENDOR, "RETURN TO VENDOR"),
    ],
)
def test_a_tag_says_where_the_unit_goes(disposition: Disposition, heading: str) -> None:
    from dataclasses import replace

    pdf = Pdf(render_quarantine_tag(replace(TAG, disposition=disposition)))
    try:
        text = pdf.all_text()
        assert heading in text and "QUARANTINE" not in text
        assert "RMA-DESK-1-00042" in text, "the number is printed whole, in words too"
        assert "serial SN0042" in text, "the serial, for the vendor's claim"
        assert decoded(pdf.image(0, 203))["Code128"] == ["RMA-DESK-1-00042"]
    finally:
        pdf.close()
