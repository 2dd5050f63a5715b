"""Lays out a :class:`~distribu.report_files.Report` as a PDF, with the invoice's fonts, styles and page
numbers (:mod:`distribu.invoice_pdf`): US Letter inside the area A4 shares, DejaVu Sans with the CJK
fallback embedded, tables that repeat their header row on every page, "Page N of M" in the footer.

Imported only when a scheduled report asks for a PDF (reportlab costs every other cold start).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.platypus import KeepTogether, LongTable, Paragraph, SimpleDocTemplate, Spacer, Table

from distribu import clock
from distribu.invoice_pdf import (BOLD, CELL_PADDING, CELL_SIZE, CONTENT_WIDTH, FOOTER_Y, HEADER_FILL, INK, MARGIN,
                                  MUTED, REGULAR, RULE, STRIPE, _cell, _font, _NumberedCanvas, _para, _style,
                                  _table_style)

if TYPE_CHECKING:
    from distribu.report_files import Report, Table as ReportTable


class _Styles:
    def __init__(self) -> None:
        self.company = _style("r_company", bold=True, size=11, color=MUTED)
        self.title = _style("r_title", bold=True, size=18)
        self.period = _style("r_period", size=10, color=MUTED)
        self.heading = _style("r_heading", bold=True, size=11)
        self.fact_label = _style("r_fact_label", size=8, color=MUTED)
        self.fact_value = _style("r_fact_value", bold=True, size=13)
        self.cell = _style("r_cell", size=CELL_SIZE)
        self.cell_right = _style("r_cell_right", size=CELL_SIZE, right=True)
        self.head = _style("r_head", bold=True, size=8.5)
        self.head_right = _style("r_head_right", bold=True, size=8.5, right=True)
        self.note = _style("r_note", size=8, color=MUTED)
        self.empty = _style("r_empty", size=9, color=MUTED)


def _facts(report: Report, styles: _Styles) -> list[Any]:
    if not report.facts:
        return []
    cells = [[_para(label.upper(), styles.fact_label), Spacer(0, 2), _para(value, styles.fact_value)]
             for label, value in report.facts]
    width = CONTENT_WIDTH / len(cells)
    table = Table([cells], colWidths=[width] * len(cells))
    table.setStyle(_table_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                 ("BOX", (0, 0), (-1, -1), 0.5, RULE), ("LEFTPADDING", (0, 0), (-1, -1), 8),
                                 ("TOPPADDING", (0, 0), (-1, -1), 8), ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                                 ("LINEAFTER", (0, 0), (-2, 0), 0.5, RULE)]))
    return [table, Spacer(0, 16)]


def _table(spec: ReportTable, styles: _Styles) -> list[Any]:
    heading = [_para(spec.title, styles.heading), Spacer(0, 6)]
    if not spec.rows:
        return [KeepTogether(heading + [_para("Nothing in this period.", styles.empty)]), Spacer(0, 14)]
    relative = spec.widths or [1.0] * len(spec.columns)
    scale = CONTENT_WIDTH / sum(relative)
    widths = [part * scale for part in relative]
    rows: list[list[Any]] = [[Paragraph(title, styles.head_right if index in spec.numeric else styles.head)
                              for index, title in enumerate(spec.columns)]]
    for row in spec.rows:
        rows.append([_cell(str(text), styles.cell_right if index in spec.numeric else styles.cell, width)
                     for index, (text, width) in enumerate(zip(row, widths))])
    commands: list[Any] = [
        ("FONT", (0, 1), (-1, -1), REGULAR, CELL_SIZE, styles.cell.leading),
        ("TEXTCOLOR", (0, 1), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, INK),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE]),
        ("LINEBELOW", (0, -1), (-1, -1), 0.5, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING), ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
    ]
    for index in spec.numeric:
        commands.append(("ALIGN", (index, 1), (index, -1), "RIGHT"))
    if spec.footer:
        rows.append([_cell(str(text), styles.cell_right if index in spec.numeric else styles.cell, width)
                     for index, (text, width) in enumerate(zip(spec.footer, widths))])
        commands += [("FONT", (0, -1), (-1, -1), BOLD, CELL_SIZE, styles.cell.leading),
                     ("BACKGROUND", (0, -1), (-1, -1), colors.white),
                     ("LINEABOVE", (0, -1), (-1, -1), 0.75, INK)]
    table = LongTable(rows, colWidths=widths, repeatRows=1)
    table.setStyle(_table_style(commands))
    story: list[Any] = [KeepTogether(heading + [table]) if len(rows) < 12 else heading[0], ]
    if len(rows) >= 12:
        story += [heading[1], table]
    if spec.note:
        story += [Spacer(0, 4), _para(spec.note, styles.note)]
    return story + [Spacer(0, 16)]


def render(report: Report) -> bytes:
    """The PDF bytes of ``report``."""
    _font(REGULAR), _font(BOLD)
    styles = _Styles()
    generated = clock.now().strftime("%Y-%m-%d %H:%M UTC")

    def footer(canvas: Any, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, FOOTER_Y, f"{report.company_name} · {report.title} · generated {generated}")
        canvas.restoreState()

    story: list[Any] = [_para(report.company_name, styles.company), Spacer(0, 4), _para(report.title, styles.title),
                        Spacer(0, 4), _para(report.period_label, styles.period), Spacer(0, 14)]
    story += _facts(report, styles)
    for spec in report.tables:
        story += _table(spec, styles)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=LETTER, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN,
        title=f"{report.title} - {report.period_label}", author=report.company_name, creator="Distribu",
        initialFontName=REGULAR)
    document.build(story, onFirstPage=footer, onLaterPages=footer, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()
