"""A small ESC/POS command-stream reader for tests: what a receipt printer would do with bytes.

``parse(data)`` walks the stream and returns the printed text lines (decoded with the code page
selected at each point, with the style each line starts in) and every command that is not text:
barcodes, QR codes, raster images, cuts, drawer kicks. An unknown command fails the parse, so a
test notices bytes it did not expect instead of printing them as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, LF = 0x1B, 0x1D, 0x0A

#: Epson's code page numbers for the tables tests may meet.
CODE_PAGES = {
    0: "cp437",
    2: "cp850",
    14: "cp737",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
}


@dataclass(frozen=True)
class Line:
    text: str
    align: str = "left"
    bold: bool = False
    width: int = 1  # character width multiplier (GS !)
    height: int = 1


@dataclass(frozen=True)
class Barcode:
    type: int  # GS k m: 73 is Code 128
    data: bytes
    module_dots: int
    height_dots: int
    hri: int  # 0 none, 1 above, 2 below, 3 both

    @property
    def text(self) -> str:
        """The data a scanner reads: Code 128's code-set prefix ({B...) removed."""
        data = self.data.decode("ascii")
        return data[2:] if self.type == 73 and data[:1] == "{" else data


@dataclass(frozen=True)
class QRCode:
    data: str
    module_dots: int


@dataclass(frozen=True)
class Raster:
    width_dots: int
    height_dots: int
    data: bytes


@dataclass(frozen=True)
class Kick:
    pin: int  # connector pin 2 or 5
    on_ms: int
    off_ms: int


@dataclass(frozen=True)
class Cut:
    partial: bool


Event = Line | Barcode | QRCode | Raster | Kick | Cut


@dataclass
class Stream:
    events: list[Event] = field(default_factory=list)
    inits: int = 0
    code_pages: list[int] = field(default_factory=list)

    @property
    def lines(self) -> list[Line]:
        return [e for e in self.events if isinstance(e, Line)]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def preview(self, width: int) -> str:
        """The paper as a person would see it, in plain text: alignment applied, double-width
        text spaced out, and what is not text named in brackets."""
        out = []
        for e in self.events:
            if isinstance(e, Line):
                text = " ".join(e.text) if e.width == 2 else e.text
                if e.align == "center":
                    text = text.center(width).rstrip()
                elif e.align == "right":
                    text = text.rjust(width)
                out.append(text)
            elif isinstance(e, Barcode):
                out.append(f"[Code 128, {e.module_dots}-dot modules: {e.text}]".center(width))
            elif isinstance(e, QRCode):
                out.append(f"[QR code: {e.data}]".center(width))
            elif isinstance(e, Raster):
                out.append(f"[image {e.width_dots} x {e.height_dots} dots]".center(width))
            elif isinstance(e, Kick):
                out.append(f"[drawer kick, pin {e.pin}]")
            elif isinstance(e, Cut):
                out.append(("- partial cut " if e.partial else "- cut ").ljust(width, "-"))
        return "\n".join(out) + "\n"


class ParseError(ValueError):
    pass


def parse(data: bytes) -> Stream:
    out = Stream()
    page = 0
    align, bold, width, height = "left", False, 1, 1
    bar_w, bar_h, hri = 3, 162, 0
    qr_size, qr_data = 3, b""
    text: list[str] = []
    line_style: tuple[str, bool, int, int] | None = None

    def flush() -> None:
        nonlocal text, line_style
        style = line_style or (align, bold, width, height)
        out.events.append(Line("".join(text), *style))
        text, line_style = [], None

    def need(at: int, n: int) -> bytes:
        if at + n > len(data):
            raise ParseError(f"command at byte {at} is cut short")
        return data[at : at + n]

    i = 0
    while i < len(data):
        b = data[i]
        if b == LF:
            flush()
            i += 1
        elif b == ESC:
            cmd = need(i + 1, 1)[0]
            if cmd == ord("@"):
                out.inits += 1
                page, align, bold, width, height = 0, "left", False, 1, 1
                i += 2
            elif cmd == ord("t"):
                page = need(i + 2, 1)[0]
                if page not in CODE_PAGES:
                    raise ParseError(f"code page {page} at byte {i} is not known to the test")
                out.code_pages.append(page)
                i += 3
            elif cmd == ord("a"):
                n = need(i + 2, 1)[0] % 48
                align = ("left", "center", "right")[n]
                i += 3
            elif cmd == ord("E"):
                bold = bool(need(i + 2, 1)[0] & 1)
                i += 3
            elif cmd == ord("!"):
                n = need(i + 2, 1)[0]
                bold, height, width = bool(n & 8), 2 if n & 16 else 1, 2 if n & 32 else 1
                i += 3
            elif cmd == ord("p"):
                m, t1, t2 = need(i + 2, 3)
                out.events.append(Kick(2 if m in (0, 48) else 5, t1 * 2, t2 * 2))
                i += 5
            elif cmd == ord("d"):
                if text:
                    flush()
                for _ in range(need(i + 2, 1)[0]):
                    flush()
                i += 3
            elif cmd in (ord("-"), ord("M"), ord("3"), ord("{")):
                i += 3
            elif cmd == ord("2"):
                i += 2
            else:
                raise ParseError(f"unknown command ESC {chr(cmd)!r} at byte {i}")
        elif b == GS:
            cmd = need(i + 1, 1)[0]
            if cmd == ord("!"):
                n = need(i + 2, 1)[0]
                width, height = (n >> 4) + 1, (n & 15) + 1
                i += 3
            elif cmd == ord("V"):
                m = need(i + 2, 1)[0]
                out.events.append(Cut(partial=m in (1, 49, 66)))
                i += 4 if m in (65, 66) else 3
            elif cmd == ord("h"):
                bar_h = need(i + 2, 1)[0]
                i += 3
            elif cmd == ord("w"):
                bar_w = need(i + 2, 1)[0]
                i += 3
            elif cmd == ord("H"):
                hri = need(i + 2, 1)[0] % 48
                i += 3
            elif cmd in (ord("f"), ord("B"), ord("b")):
                i += 3
            elif cmd == ord("k"):
                m = need(i + 2, 1)[0]
                if m <= 6:  # function A: data up to NUL
                    end = data.index(0, i + 3)
                    payload, i = data[i + 3 : end], end + 1
                else:
                    n = need(i + 3, 1)[0]
                    payload, i = need(i + 4, n), i + 4 + n
                out.events.append(Barcode(m, payload, bar_w, bar_h, hri))
            elif cmd == ord("("):
                fn_class = need(i + 2, 1)
                p_l, p_h = need(i + 3, 2)
                size = p_l + 256 * p_h
                block = need(i + 5, size)
                if fn_class == b"k" and block[0] == 49:  # cn 49: QR code
                    fn = block[1]
                    if fn == 67:
                        qr_size = block[2]
                    elif fn == 80:
                        qr_data = block[3:]
                    elif fn == 81:
                        out.events.append(QRCode(qr_data.decode("utf-8"), qr_size))
                elif fn_class != b"L":
                    raise ParseError(f"unknown command GS ( {fn_class!r} at byte {i}")
                i += 5 + size
            elif cmd == ord("v"):
                head = need(i + 2, 6)
                if head[0] != ord("0"):
                    raise ParseError(f"unknown command GS v {head[:1]!r} at byte {i}")
                x_bytes = head[2] + 256 * head[3]
                y_dots = head[4] + 256 * head[5]
                out.events.append(Raster(x_bytes * 8, y_dots, need(i + 8, x_bytes * y_dots)))
                i += 8 + x_bytes * y_dots
            else:
                raise ParseError(f"unknown command GS {chr(cmd)!r} at byte {i}")
        elif b < 0x20 or b == 0x7F:
            raise ParseError(f"control byte 0x{b:02x} at byte {i} is no command the test knows")
        else:
            if line_style is None:
                line_style = (align, bold, width, height)
            text.append(bytes([b]).decode(CODE_PAGES[page]))
            i += 1
    if text:
        flush()
    return out
