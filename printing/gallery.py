"""A gallery of every document Waystation prints, rendered with realistic sample data.

    python -m printing.gallery [OUT_DIR]        (default: docs/printing)

PDF documents become PNG pages at 150 dpi (pypdfium2, a development dependency); ESC/POS
receipts become a .txt preview of their text; ZPL labels are written as they are. ``index.md``
lists each document with a line saying what it is for, and names the documents whose renderer
has not landed yet, so the gallery runs at every stage of the printing work. Reviewers look at
the pictures; tests check that every document the repository can print made it in.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_OUT = Path("docs/printing")
DPI = 150

Builder = Callable[[Callable[..., Any]], object]


@dataclass(frozen=True, slots=True)
class Document:
    """One printable document: where its renderer lives and how to call it with sample data."""

    slug: str  # file name stem
    title: str
    description: str
    module: str
    function: str
    build: Builder  # calls the renderer with sample data, returns PDF, ZPL or ESC/POS


@dataclass(frozen=True, slots=True)
class Entry:
    """What the gallery made of one document."""

    document: Document
    files: tuple[str, ...] = ()  # relative to the output folder
    problem: str = ""  # why there are no files: not available yet, or the error

    @property
    def available(self) -> bool:
        return not self.problem


# ----------------------------------------------------------------------------- sample data


def sample_company(paper: str = "A4") -> Any:
    from app.domain.documents import Address, CompanyProfile

    return CompanyProfile(
        name="Northwind Outfitters Ltd",
        address=Address(
            "Northwind Outfitters Ltd",
            "Unit 4, Riverside Trading Estate",
            "Mill Lane",
            "Leeds",
            "LS10 1AB",
            "",
            "GB",
        ),
        phone="+44 113 496 0000",
        email="orders@northwind.example",
        website="northwind.example",
        returns_url="https://northwind.example/returns",
        paper=paper,
    )


def _customer() -> Any:
    from app.domain.documents import Address

    return Address("Zoë Martin", "Flat 2, 17 Baker Street", "", "London", "NW1 6XE", "", "GB")


_PRODUCTS = (
    ("NW-1000", "05012345678900", "Merino wool hiking socks, medium, charcoal"),
    ("NW-1013", "05012345678917", "Waterproof shell jacket with taped seams and pit zips, size L"),
    ("NW-2044", "05012345678924", "Trekking pole, carbon, 2-section"),
    ("NW-2301", "05012345678931", "Headlamp 300 lm, rechargeable"),
    ("NW-3120", "05012345678948", "Insulated bottle 750 ml, sage"),
    ("NW-3375", "05012345678955", "Compact first aid kit"),
    ("NW-4002", "05012345678962", "Down sleeping bag, comfort −5 °C, regular"),
    ("NW-4410", "05012345678979", "Camp stove gas canister 230 g"),
)


def sample_packing_slip() -> Any:
    from app.domain.documents import Address, PackingSlip, SlipLine

    lines = tuple(
        SlipLine(sku, gtin, name, 2 if i == 1 else 1, 1)
        for i, (sku, gtin, name) in enumerate(_PRODUCTS[:6])
    )
    return PackingSlip(
        order_number="WS-104233",
        placed_at=datetime(2026, 11, 26, 14, 5),
        channel="Web shop",
        ship_to=_customer(),
        bill_to=Address(
            "Jörg Müller", "Hauptstraße 5", "c/o Acme GmbH", "Berlin", "10115", "", "DE"
        ),
        lines=lines,
        packages=1,
        packed_by="Ana Silva",
        station="PACK-1",
        notes=("Gift wrap requested — no prices inside.",),
    )


def sample_pick_list(kind: str = "cluster", stops: int = 18) -> Any:
    from app.domain.pick_docs import PickKind, PickList, PickStop

    pick_kind = PickKind(kind)
    orders = (
        ["WS-104240"] if pick_kind is PickKind.SINGLE else [f"WS-1042{40 + i}" for i in range(4)]
    )
    out = []
    for i in range(stops):
        sku, gtin, name = _PRODUCTS[i % len(_PRODUCTS)]
        order = orders[(i * 3) % len(orders)]
        out.append(
            PickStop(
                seq=i + 1,
                bin_code=f"A-{1 + i // 8:02d}-{1 + (i % 8) // 2:02d}-{'AB'[i % 2]}",
                sku=sku,
                gtin=gtin,
                name=name,
                qty=1 + (i * 5) % 4,
                order_number=order,
                tote_slot=str(orders.index(order) + 1) if pick_kind is PickKind.CLUSTER else None,
                lot="L2611-07" if sku == "NW-4410" else None,
            )
        )
    return PickList(
        number=f"PL-2026-{418 + len(orders):05d}",
        created_at=datetime(2026, 11, 27, 7, 45),
        kind=pick_kind,
        stops=tuple(out),
        picker="Ana Silva" if pick_kind is PickKind.SINGLE else None,
    )


def sample_return_slip(*, label: bool = False) -> Any:
    from app.domain.documents import Address
    from app.domain.pick_docs import ReturnSlip, ReturnSlipLine

    steps = [
        "Put the items back in their original packaging if you still have it.",
        "Pack this slip inside the parcel.",
        "Cut out the label at the bottom of this page and tape it to the outside of the parcel.",
        "Hand the parcel in at any post office within 30 days of delivery.",
    ]
    if label:
        steps[1:3] = ["Stick this label on the outside of the parcel."]
    return ReturnSlip(
        rma_number="RMA-2026-000731",
        order_number="WS-104233",
        customer=_customer(),
        return_to=Address(
            "Northwind Returns",
            "Unit 4, Riverside Trading Estate",
            "Mill Lane",
            "Leeds",
            "LS10 1AB",
            "",
            "GB",
        ),
        lines=(
            ReturnSlipLine("NW-1013", _PRODUCTS[1][2], 1, "Too small — would like size XL"),
            ReturnSlipLine("NW-2301", _PRODUCTS[3][2], 1, "Arrived damaged: the strap is torn"),
            ReturnSlipLine("NW-1000", _PRODUCTS[0][2], 2, "Changed my mind"),
        ),
        instructions=tuple(steps),
        return_url="https://northwind.example/returns/RMA-2026-000731",
        created_at=datetime(2026, 12, 2, 10, 30),
    )


def sample_shipping_label() -> Any:
    from app.domain.labels import ShippingLabel
    from app.domain.sscc import make_sscc

    return ShippingLabel(
        ship_from=sample_company().address,
        ship_to=_customer(),
        carrier="Royal Mail",
        service="Tracked 48",
        weight_g=1840,
        package_no=1,
        package_count=2,
        tracking_number="JD014600003828000123",
        sscc=make_sscc(0, "5012345", 104233001),
        order_number="WS-104233",
        reference="PO 88-1932",
        notes="Fragile",
        company_prefix_length=7,
    )


def sample_product_labels() -> list[Any]:
    from app.domain.labels import ProductLabel

    return [
        ProductLabel(gtin, name, sku, price, "GBP")
        for (sku, gtin, name), price in zip(_PRODUCTS[:4], (1499, 18900, 6450, None), strict=True)
    ]


def sample_bin_labels() -> list[Any]:
    from app.domain.labels import BinLabel

    return [BinLabel(f"A-01-{shelf:02d}-{side}", "Zone A") for shelf in (1, 2) for side in "AB"]


def sample_tote_labels() -> list[Any]:
    from app.domain.labels import ToteLabel

    return [ToteLabel(f"TOTE-{n:04d}") for n in (17, 18, 19)]


def sample_receipts() -> list[Any]:
    from app.domain.receipts import Receipt, ReceiptLine, Tender, TenderKind

    at = datetime(2026, 12, 5, 15, 42, tzinfo=UTC)
    sale = Receipt(
        number="R-0003-000412",
        at=at,
        station="SHOP-1",
        operator="Ana Silva",
        lines=(
            ReceiptLine("NW-1000", _PRODUCTS[0][2], 2, 1499, 2000),
            ReceiptLine("NW-2301", _PRODUCTS[3][2], 1, 3499, 2000, discount_minor=500),
            ReceiptLine("NW-9001", "Trail mix 200 g", 3, 249, 500),
        ),
        tenders=(Tender(TenderKind.CARD, 5000, "•••• 4242"), Tender(TenderKind.CASH, 2000)),
        currency="GBP",
        footer="Thank you for shopping with Northwind.\nReturns within 30 days with this receipt.",
    )
    refund = Receipt(
        number="R-0003-000413",
        at=at + timedelta(minutes=20),
        station="SHOP-1",
        operator="Ana Silva",
        lines=(ReceiptLine("NW-9001", "Trail mix 200 g", -1, 249, 500),),
        tenders=(Tender(TenderKind.CASH, -249),),
        currency="GBP",
    )
    return [sale, refund]


def sample_cash_report() -> Any:
    from app.domain.receipts import CashReport

    opened = datetime(2026, 12, 5, 8, 55, tzinfo=UTC)
    return CashReport.from_receipts(
        sample_receipts(),
        station="SHOP-1",
        operator="Ana Silva",
        opened_at=opened,
        closed_at=opened + timedelta(hours=9, minutes=10),
        opening_float_minor=15000,
        counted_cash_minor=18700,
        currency="GBP",
        paid_out_minor=1000,
    )


def sample_manifest() -> Any:
    from app.domain.receipts import Manifest, ManifestPackage
    from app.domain.sscc import make_sscc

    packages = tuple(
        ManifestPackage(
            order_number=f"WS-1042{30 + i}",
            tracking_number=f"JD0146000038280{i:05d}",
            sscc=make_sscc(0, "5012345", 104230001 + i),
            weight_g=650 + 370 * i,
            service="Tracked 24" if i % 3 == 0 else "Tracked 48",
        )
        for i in range(12)
    )
    return Manifest(
        carrier="Royal Mail",
        date=date(2026, 12, 5),
        packages=packages,
        account="RM-0044172",
        number="MF-20261205-01",
        station="PACK-1",
    )


# ----------------------------------------------------------------------------- documents


def _call(render: Callable[..., Any], data: object, company: object, **kwargs: object) -> object:
    """Call ``render(data, company, ...)`` or, when it takes no company, ``render(data, ...)``.

    The label, receipt and end-of-day renderers are written alongside the gallery; this keeps
    the gallery working whichever of the two shapes each one settles on.
    """
    try:
        inspect.signature(render).bind(data, company, **kwargs)
    except TypeError:
        return render(data, **kwargs)
    return render(data, company, **kwargs)


def _paper(builder: Callable[[], object], paper: str) -> Builder:
    return lambda render: render(builder(), sample_company(paper), paper=paper)


def documents() -> list[Document]:
    """Every document the repository prints, in the order the index lists them."""
    slip = "Packing slip"
    slip_text = "goes in the parcel: what was ordered and shipped, backorders, returns QR"
    pick = "Pick list"
    ret = "Return slip"
    ret_text = "goes in a returned parcel: RMA barcode for the returns desk, items and reasons"
    return [
        Document("packing-slip-a4", f"{slip}, A4", f"A4 laser: {slip_text}.",
                 "printing.packing_slip", "render_packing_slip",
                 _paper(sample_packing_slip, "A4")),
        Document("packing-slip-letter", f"{slip}, Letter", f"US Letter laser: {slip_text}.",
                 "printing.packing_slip", "render_packing_slip",
                 _paper(sample_packing_slip, "LETTER")),
        Document("packing-slip-4x6", f"{slip}, 4×6", f"4×6 in thermal label: {slip_text}.",
                 "printing.packing_slip", "render_packing_slip",
                 _paper(sample_packing_slip, "4x6")),
        Document("pick-list-single", f"{pick}, single order (A4)",
                 "One order's stops in walk order: bin as big text and Code 128, qty, tick box.",
                 "printing.pick_list", "render_pick_list",
                 _paper(lambda: sample_pick_list("single", 7), "A4")),
        Document("pick-list-cluster", f"{pick}, cluster (A4)",
                 "Four orders into cart slots: slot per stop, repeated header, order summary.",
                 "printing.pick_list", "render_pick_list",
                 _paper(lambda: sample_pick_list("cluster", 30), "A4")),
        Document("pick-list-batch-letter", f"{pick}, batch (Letter)",
                 "Four orders picked together, sorted at the bench using the order summary.",
                 "printing.pick_list", "render_pick_list",
                 _paper(lambda: sample_pick_list("batch", 12), "LETTER")),
        Document("return-slip-a4", f"{ret}, A4", f"A4 laser: {ret_text}; cut-out parcel label.",
                 "printing.return_slip", "render_return_slip",
                 _paper(sample_return_slip, "A4")),
        Document("return-slip-letter", f"{ret}, Letter",
                 f"US Letter laser: {ret_text}; cut-out parcel label.",
                 "printing.return_slip", "render_return_slip",
                 _paper(sample_return_slip, "LETTER")),
        Document("return-slip-4x6", f"{ret}, 4×6",
                 "4×6 in thermal: the return slip as a label to stick on the parcel.",
                 "printing.return_slip", "render_return_slip",
                 _paper(lambda: sample_return_slip(label=True), "4x6")),
        Document("shipping-label", "Shipping label, 4×6",
                 "GS1 logistic label on each parcel: SSCC as GS1-128, carrier, addresses.",
                 "printing.labels", "render_shipping_label",
                 lambda render: _call(render, sample_shipping_label(), sample_company())),
        Document("product-labels", "Product labels",
                 "Item labels: GTIN barcode, name, SKU and price.",
                 "printing.labels", "render_product_labels",
                 lambda render: _call(render, sample_product_labels(), sample_company())),
        Document("bin-labels", "Bin labels",
                 "Shelf location labels a picker scans at each stop.",
                 "printing.labels", "render_bin_labels",
                 lambda render: _call(render, sample_bin_labels(), sample_company())),
        Document("tote-labels", "Tote labels",
                 "Crate labels scanned to tie a tote to a pick list.",
                 "printing.labels", "render_tote_labels",
                 lambda render: _call(render, sample_tote_labels(), sample_company())),
        Document("receipt", "Counter receipt (ESC/POS)",
                 "80 mm receipt for a shop-counter sale with two tenders; text preview.",
                 "printing.receipt", "render_receipt",
                 lambda render: _call(render, sample_receipts()[0], sample_company())),
        Document("receipt-refund", "Refund receipt (ESC/POS)",
                 "80 mm receipt for an item taken back and cash paid out; text preview.",
                 "printing.receipt", "render_receipt",
                 lambda render: _call(render, sample_receipts()[1], sample_company())),
        Document("manifest", "Carrier manifest",
                 "End of day: the packages a carrier collects, for the driver to sign.",
                 "printing.end_of_day", "render_manifest",
                 lambda render: _call(render, sample_manifest(), sample_company())),
        Document("cash-report", "Cash report",
                 "End of a till session: takings by tender, expected and counted cash.",
                 "printing.end_of_day", "render_cash_report",
                 lambda render: _call(render, sample_cash_report(), sample_company())),
    ]  # fmt: skip


# ----------------------------------------------------------------------------- output


def _renderer(document: Document) -> Callable[..., Any] | None:
    """The document's render function, or None when its module or function has not landed."""
    try:
        module = importlib.import_module(document.module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and document.module.startswith(exc.name):
            return None
        raise
    render = getattr(module, document.function, None)
    return render if callable(render) else None


def _write_pdf(data: bytes, out_dir: Path, slug: str) -> tuple[str, ...]:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    pdf = pdfium.PdfDocument(data)
    try:
        pages = len(pdf)
        names = [f"{slug}.png"] if pages == 1 else [f"{slug}-p{n}.png" for n in range(1, pages + 1)]
        for index, name in enumerate(names):
            page = pdf[index]
            bitmap = page.render(scale=DPI / 72)
            bitmap.to_pil().save(out_dir / name)
            bitmap.close()
            page.close()
        return tuple(names)
    finally:
        pdf.close()


def escpos_text(data: bytes) -> str:
    """The printable text of an ESC/POS job: commands dropped, images and barcodes noted."""
    out: list[str] = []
    i, n = 0, len(data)

    def arg(k: int) -> int:
        return data[i + k] if i + k < n else 0

    while i < n:
        b = data[i]
        if b == 0x1B:  # ESC
            cmd = arg(1)
            if cmd in b"@2<":
                i += 2
            elif cmd == ord("p"):  # cash drawer kick
                out.append("[cash drawer]\n")
                i += 5
            elif cmd == ord("*"):  # bit image
                i += 5 + (arg(3) + 256 * arg(4)) * (3 if arg(2) >= 32 else 1)
                out.append("[image]\n")
            elif cmd == ord("d"):  # feed n lines
                out.append("\n" * min(arg(2), 3))
                i += 3
            else:
                i += 3
        elif b == 0x1D:  # GS
            cmd = arg(1)
            if cmd == ord("V"):  # cut
                out.append("\n" + "-" * 12 + " cut " + "-" * 12 + "\n")
                i += 4 if arg(2) in (65, 66, 97, 98) else 3
            elif cmd == ord("k"):  # barcode
                system = arg(2)
                if system <= 6:
                    end = data.find(b"\0", i + 3)
                    end = n if end < 0 else end
                    code, i = data[i + 3 : end], end + 1
                else:
                    code, i = data[i + 4 : i + 4 + arg(3)], i + 4 + arg(3)
                text = code.decode("ascii", "replace")
                if system == 73:  # Code 128: drop the code set selectors ({A {B {C)
                    text = re.sub(r"\{[ABC]", "", text).replace("{{", "{")
                out.append(f"[barcode {text}]\n")
            elif cmd == ord("(") and arg(2) in b"kL":  # QR code, graphics: length-prefixed
                size = arg(3) + 256 * arg(4)
                if arg(2) == ord("k") and arg(6) == 80:  # store the QR data
                    out.append(f"[QR {data[i + 8 : i + 5 + size].decode('utf-8', 'replace')}]\n")
                i += 5 + size
            elif cmd == ord("v") and arg(2) == ord("0"):  # raster image
                i += 8 + (arg(4) + 256 * arg(5)) * (arg(6) + 256 * arg(7))
                out.append("[image]\n")
            elif cmd in b"LW":
                i += 4
            else:
                i += 3
        elif b in (0x0A, 0x0D) or b >= 0x20:
            start = i
            while i < n and (data[i] >= 0x20 or data[i] == 0x0A):
                i += 1
            out.append(data[start:i].decode("cp858", "replace"))
            if i < n and data[i] == 0x0D:
                i += 1
        else:
            i += 1
    return "".join(out)


def _write_output(result: object, out_dir: Path, document: Document) -> tuple[str, ...]:
    slug = document.slug
    if isinstance(result, str):
        result = result.encode()
    if not isinstance(result, bytes | bytearray):
        raise TypeError(f"{document.function} returned {type(result).__name__}, not bytes")
    data = bytes(result)
    if data.startswith(b"%PDF-"):
        return _write_pdf(data, out_dir, slug)
    if data.lstrip().startswith(b"^XA"):
        (out_dir / f"{slug}.zpl").write_bytes(data)
        return (f"{slug}.zpl",)
    (out_dir / f"{slug}.txt").write_text(escpos_text(data), encoding="utf-8")
    return (f"{slug}.txt",)


def _clear(out_dir: Path, slug: str) -> None:
    """Remove what an earlier run wrote for ``slug``: page counts change."""
    for pattern in (f"{slug}.*", f"{slug}-p*.png"):
        for old in out_dir.glob(pattern):
            old.unlink()


def build(out_dir: Path, docs: Sequence[Document] | None = None) -> list[Entry]:
    """Render every document into ``out_dir`` and write ``index.md``; one entry per document."""
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for document in documents() if docs is None else docs:
        _clear(out_dir, document.slug)
        try:
            render = _renderer(document)
            if render is None:
                entries.append(Entry(document, problem="not available yet"))
                continue
            files = _write_output(document.build(render), out_dir, document)
        except Exception as exc:  # one broken document must not hide the others
            log.exception("gallery: %s failed", document.slug)
            entries.append(Entry(document, problem=f"failed: {type(exc).__name__}: {exc}"))
            continue
        entries.append(Entry(document, files=files))
    (out_dir / "index.md").write_text(_index(entries), encoding="utf-8")
    return entries


def _index(entries: Sequence[Entry]) -> str:
    lines = [
        "# Printed documents",
        "",
        "Every document Waystation prints, rendered with sample data by "
        "`python -m printing.gallery` (PDF pages at 150 dpi; receipts as a text preview).",
        "Regenerate after changing a layout and look at the pictures before committing.",
        "",
    ]
    for entry in entries:
        d = entry.document
        if entry.available:
            links = ", ".join(f"[{name}]({name})" for name in entry.files)
            lines.append(f"- **{d.title}** — {d.description} {links}")
    problems = [e for e in entries if not e.available]
    if problems:
        lines += ["", "## Not rendered", ""]
        for entry in problems:
            d = entry.document
            where = f"`{d.module}.{d.function}`"
            lines.append(f"- **{d.title}** — {entry.problem} ({where}). {d.description}")
    lines += ["", "## Pages", ""]
    for entry in entries:
        for name in entry.files:
            if name.endswith(".png"):
                lines += [f"### {entry.document.title} — {name}", "", f"![{name}]({name})", ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) > 1 or (args and args[0] in {"-h", "--help"}):
        print("usage: python -m printing.gallery [OUT_DIR]", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    out_dir = Path(args[0]) if args else DEFAULT_OUT
    entries = build(out_dir)
    for entry in entries:
        state = ", ".join(entry.files) if entry.available else entry.problem
        print(f"{entry.document.slug:24} {state}")
    print(f"index: {out_dir / 'index.md'}")
    return 1 if any(e.problem.startswith("failed") for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main())
