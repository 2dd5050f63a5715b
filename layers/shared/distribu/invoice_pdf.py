"""Lays out an :class:`~distribu.invoices.Invoice` as a PDF with reportlab's platypus.

Imported only by :func:`distribu.invoices.render_invoice`: this module imports reportlab (and so Pillow)
at its top, which no other code path may pay for.

Layout choices:
- US Letter, because every amount is in dollars and the addresses are US-shaped. The content is kept
  inside the area Letter and A4 share (504 pt = 178 mm wide, 0.75 in margins), so the same file also
  prints unscaled on A4.
- The line table is a ``LongTable`` with ``repeatRows=1``: a table that runs over pages repeats its
  header row on every page. Row cells are paragraphs, so long names wrap instead of overflowing.
- "Page N of M" needs M before any page is written: :class:`_NumberedCanvas` holds the pages' states
  and stamps the footers when the document is saved (one layout pass, not two).

Fonts: DejaVu Sans regular and bold (Latin, Greek, Cyrillic, Hebrew, Arabic letters, ...) and Droid
Sans Fallback for what DejaVu lacks (Chinese, Japanese, Korean), vendored in ``fonts/`` and embedded as
subsets. Each is parsed once per container, on first need: DejaVu with the first invoice, Droid (3.4 MB,
~50 ms to parse) only when a text holds a character DejaVu cannot draw. A character neither font has
(Thai, Devanagari, emoji, ...) is drawn as U+FFFD so a gap is visible, never an invisible missing glyph.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

if TYPE_CHECKING:
    from distribu.invoices import Invoice

FONT_DIR = Path(__file__).with_name("fonts")
REGULAR, BOLD, FALLBACK = "DejaVuSans", "DejaVuSans-Bold", "DroidSansFallback"
_FONT_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf", FALLBACK: "DroidSansFallback.ttf"}
REPLACEMENT = "\ufffd"

PAGE_WIDTH, PAGE_HEIGHT = LETTER
MARGIN = 0.75 * inch
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN  # 504 pt
FOOTER_Y = 0.45 * inch
CELL_SIZE, CELL_PADDING = 8.5, 5

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
HEADER_FILL = colors.HexColor("#e4e7eb")
STRIPE = colors.HexColor("#f5f7fa")

_fonts_lock = threading.Lock()
_coverage: dict[str, frozenset[int]] = {}


# --- fonts ------------------------------------------------------------------------------------------

def _font(name: str) -> frozenset[int]:
    """Register one vendored font with reportlab (once per container, thread-safe); its code points."""
    covered = _coverage.get(name)
    if covered is not None:
        return covered
    with _fonts_lock:
        if name not in _coverage:
            font = TTFont(name, str(FONT_DIR / _FONT_FILES[name]))
            pdfmetrics.registerFont(font)
            # <font name=...> inside a bold paragraph looks the family up: each family maps to itself.
            bold = BOLD if name == REGULAR else name
            pdfmetrics.registerFontFamily(name, normal=name, bold=bold, italic=name, boldItalic=bold)
            _coverage[name] = frozenset(font.face.charToGlyph)
        return _coverage[name]


def _markup(text: str, font_name: str) -> str:
    """``text`` as paragraph markup: escaped, newlines as breaks, and every run of characters the
    paragraph's font cannot draw switched to the fallback font (or U+FFFD when that cannot either)."""
    covered = _font(font_name)
    out: list[str] = []
    in_fallback = False
    for char in text:
        if char == "\n":
            piece, fallback = "<br/>", False
        else:
            if char.isspace():
                char = " "
            if ord(char) in covered:
                piece, fallback = escape(char), False
            elif ord(char) in _font(FALLBACK):
                piece, fallback = escape(char), True
            else:
                piece, fallback = REPLACEMENT, False
        if fallback != in_fallback:
            out.append(f'<font name="{FALLBACK}">' if fallback else "</font>")
            in_fallback = fallback
        out.append(piece)
    if in_fallback:
        out.append("</font>")
    return "".join(out)


# --- styles -----------------------------------------------------------------------------------------

def _style(name: str, *, bold: bool = False, size: float = 9, color: Any = INK, right: bool = False,
           leading: float | None = None) -> ParagraphStyle:
    return ParagraphStyle(name, fontName=BOLD if bold else REGULAR, fontSize=size, leading=leading or size * 1.3,
                          textColor=color, alignment=TA_RIGHT if right else 0)


class _Styles:
    def __init__(self) -> None:
        self.company = _style("company", bold=True, size=16)
        self.title = _style("title", bold=True, size=22, right=True)
        self.number = _style("number", size=10, color=MUTED, right=True)
        self.label = _style("label", bold=True, size=7.5, color=MUTED)
        self.text = _style("text")
        self.cell = _style("cell", size=CELL_SIZE)
        self.cell_right = _style("cell_right", size=CELL_SIZE, right=True)
        self.head = _style("head", bold=True, size=8.5)
        self.head_right = _style("head_right", bold=True, size=8.5, right=True)
        self.meta_label = _style("meta_label", size=8.5, color=MUTED)
        self.meta_value = _style("meta_value", size=8.5, right=True)
        self.total_label = _style("total_label", size=9, right=True)
        self.total_value = _style("total_value", size=9, right=True)
        self.grand_label = _style("grand_label", bold=True, size=11, right=True)
        self.grand_value = _style("grand_value", bold=True, size=11, right=True)


def _table_style(commands: list[Any]) -> TableStyle:
    """A table's style; every cell's font is DejaVu (the default, Helvetica, would be named unembedded)."""
    return TableStyle([("FONT", (0, 0), (-1, -1), REGULAR, 9), *commands])


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(_markup(text, style.fontName), style)


# --- page numbers -------------------------------------------------------------------------------------

class _NumberedCanvas(Canvas):
    """Keeps each finished page's state until save, then stamps "Page N of M" on every page."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        count = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(REGULAR, 8)
            self.setFillColor(MUTED)
            self.drawRightString(PAGE_WIDTH - MARGIN, FOOTER_Y, f"Page {number} of {count}")
            super().showPage()
        super().save()


# --- the document --------------------------------------------------------------------------------------

def _header(invoice: Invoice, styles: _Styles) -> list[Any]:
    top = Table([[_para(invoice.company_name, styles.company),
                  [Paragraph("INVOICE", styles.title), Spacer(0, 4), _para(invoice.number, styles.number)]]],
                colWidths=[CONTENT_WIDTH * 0.6, CONTENT_WIDTH * 0.4])
    top.setStyle(_table_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
                             ("LINEBELOW", (0, 0), (-1, 0), 1, INK)]))

    meta_rows = [("Invoice number", invoice.number), ("Invoice date", invoice.date),
                 ("PO #", invoice.po_number or "—"), ("Order status", invoice.status)]
    meta = Table([[_para(label, styles.meta_label), _para(value, styles.meta_value)] for label, value in meta_rows],
                 colWidths=[72, 118])
    meta.setStyle(_table_style([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                              ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                              ("VALIGN", (0, 0), (-1, -1), "TOP")]))

    def block(label: str, lines: list[str]) -> list[Any]:
        return [Paragraph(label, styles.label), Spacer(0, 3), *(_para(line, styles.text) for line in lines)]

    parties = Table([[block("BILL TO", invoice.bill_to), block("SHIP TO", invoice.ship_to), meta]],
                    colWidths=[150, CONTENT_WIDTH - 150 - 190, 190])
    parties.setStyle(_table_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                 ("RIGHTPADDING", (0, 0), (1, 0), 12), ("RIGHTPADDING", (2, 0), (2, 0), 0),
                                 ("TOPPADDING", (0, 0), (-1, -1), 12)]))
    return [top, parties, Spacer(0, 18)]


LINE_COLUMNS = [("SKU", 88, False), ("Product", 218, False), ("Qty", 48, True), ("Unit price", 70, True),
                ("Line total", 80, True)]


def _cell(text: str, style: ParagraphStyle, width: float) -> str | Paragraph:
    """A line-table cell: the plain string when it fits on one line in the regular font (the table draws
    it directly, ~5x cheaper than a paragraph), else a paragraph that wraps and switches fonts."""
    covered = _font(REGULAR)
    if "\n" not in text and all(ord(char) in covered for char in text) and \
            pdfmetrics.stringWidth(text, REGULAR, CELL_SIZE) <= width - 2 * CELL_PADDING:
        return text
    return _para(text, style)


def _lines(invoice: Invoice, styles: _Styles) -> LongTable:
    widths = [width for _, width, _ in LINE_COLUMNS]
    rows: list[list[Any]] = [[Paragraph(title, styles.head_right if right else styles.head)
                              for title, _, right in LINE_COLUMNS]]
    for line in invoice.lines:
        texts = [line.sku, line.product, f"{line.quantity:,}", line.unit_price, line.line_total]
        rows.append([_cell(text, styles.cell_right if right else styles.cell, width)
                     for text, (_, width, right) in zip(texts, LINE_COLUMNS)])
    table = LongTable(rows, colWidths=widths, repeatRows=1)
    table.setStyle(_table_style([
        ("FONT", (0, 1), (-1, -1), REGULAR, CELL_SIZE, styles.cell.leading),
        ("TEXTCOLOR", (0, 1), (-1, -1), INK),
        ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, INK),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE]),
        ("LINEBELOW", (0, -1), (-1, -1), 0.5, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING), ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
    ]))
    return table


def _totals(invoice: Invoice, styles: _Styles) -> Table:
    rows = [[_para("Subtotal", styles.total_label), _para(invoice.subtotal, styles.total_value)],
            [_para(invoice.tax_label, styles.total_label), _para(invoice.tax, styles.total_value)],
            [_para("Total", styles.grand_label), _para(invoice.total, styles.grand_value)]]
    table = Table(rows, colWidths=[120, 90], hAlign="RIGHT")
    table.setStyle(_table_style([("LINEABOVE", (0, 2), (-1, 2), 1, INK), ("TOPPADDING", (0, 0), (-1, -1), 3),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 3), ("TOPPADDING", (0, 2), (-1, 2), 6),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 5)]))
    return table


def _story(invoice: Invoice, styles: _Styles) -> list[Any]:
    story: list[Any] = [*_header(invoice, styles), _lines(invoice, styles), Spacer(0, 10),
                        KeepTogether([_totals(invoice, styles)])]
    if invoice.notes:
        story += [Spacer(0, 18), KeepTogether([Paragraph("NOTES", styles.label), Spacer(0, 3)] +
                                              [_para(invoice.notes, styles.text)])]
    return story


def render(invoice: Invoice) -> bytes:
    """The PDF bytes of ``invoice``."""
    _font(REGULAR), _font(BOLD)
    styles = _Styles()

    def footer(canvas: Canvas, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, FOOTER_Y, f"Invoice {invoice.number}")
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=LETTER, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN,
        title=f"Invoice {invoice.number}", author=invoice.company_name, subject=f"Order {invoice.order_id}",
        creator="Distribu", initialFontName=REGULAR)  # else every page names Helvetica, never embedded
    document.build(_story(invoice, styles), onFirstPage=footer, onLaterPages=footer, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()
