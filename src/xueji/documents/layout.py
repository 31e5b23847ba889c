"""The page as the offices print it: A4, a letterhead with the college and the station on every
page, 第 x 页 共 y 页 at the foot, tables whose header row repeats after a page break, totals
rows, and boxes for signatures and seals. Each document module builds its story from these."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from xueji.config import Settings
from xueji.documents.fonts import register_font

GRID = colors.HexColor("#333333")
SHADE = colors.HexColor("#e8e8e8")


@dataclass(frozen=True)
class Letterhead:
    """What the top of every page says: the college, the document, the station it is for."""

    title: str
    station: str | None = None  # e.g. 郑州函授站（S01）; None for a college-wide list
    subtitle: str | None = None  # e.g. 2028年春季 · 共 12 人
    copy: str | None = None  # which copy of a document printed more than once (第一份：学校存档)


@dataclass(frozen=True)
class Signature:
    """One signing row: who signs (函授站意见), what they wrote, their name and date."""

    label: str
    opinion: str = ""
    signer: str = ""
    signed_on: str = ""
    seal: bool = False  # the row carries a seal (盖章)


class Kit:
    """Styles and flowables in the embedded font of one service's settings."""

    def __init__(self, settings: Settings, today: date):
        self.settings = settings
        self.font = register_font(settings.pdf_font, settings.pdf_font_index)
        self.college = settings.college_name
        self.today = today
        base = ParagraphStyle("base", fontName=self.font, fontSize=9, leading=12, wordWrap="CJK")
        self.body = base
        self.small = ParagraphStyle("small", parent=base, fontSize=8, leading=10)
        self.cell = ParagraphStyle("cell", parent=base, fontSize=9, leading=11)
        self.cell_center = ParagraphStyle("cell_center", parent=self.cell, alignment=TA_CENTER)
        self.right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT)
        self.title = ParagraphStyle(
            "title", parent=base, fontSize=17, leading=22, alignment=TA_CENTER, spaceAfter=2 * mm
        )
        self.subtitle = ParagraphStyle(
            "subtitle", parent=base, fontSize=10, leading=14, alignment=TA_CENTER
        )
        self.heading = ParagraphStyle(
            "heading",
            parent=base,
            fontSize=11,
            leading=15,
            alignment=TA_LEFT,
            spaceBefore=3 * mm,
            spaceAfter=1.5 * mm,
        )

    def grid(self, commands: list[tuple[Any, ...]]) -> TableStyle:
        """A table style in the embedded font (a cell's plain text would else be Helvetica,
        which the PDF does not embed)."""
        return TableStyle([("FONTNAME", (0, 0), (-1, -1), self.font), *commands])

    # -- paragraphs -------------------------------------------------------------------------

    def p(self, text: Any, style: ParagraphStyle | None = None) -> Paragraph:
        """A paragraph of plain text (escaped; newlines kept)."""
        escaped = _escape("" if text is None else str(text)).replace("\n", "<br/>")
        return Paragraph(escaped, style or self.cell)

    def section(self, text: str) -> list[Flowable]:
        """A heading over a table: it starts a new page unless the header row and a few rows
        fit under it (keepWithNext would push a long table whole to the next page)."""
        return [CondPageBreak(45 * mm), Paragraph(_escape(text), self.heading)]

    def heading_for(self, head: Letterhead) -> list[Flowable]:
        story: list[Flowable] = [Paragraph(_escape(head.title), self.title)]
        if head.copy:
            story.append(Paragraph(_escape(f"（{head.copy}）"), self.subtitle))
        if head.subtitle:
            story.append(Paragraph(_escape(head.subtitle), self.subtitle))
        story.append(Spacer(1, 3 * mm))
        return story

    # -- tables -----------------------------------------------------------------------------

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        widths: Sequence[float],
        *,
        totals: Sequence[Any] | None = None,
        span_totals: bool = False,
        row_height: float | None = None,
        centered: Sequence[int] = (),
        with_header: bool = True,
    ) -> Table:
        """A grid with a shaded header that repeats on every page, and an optional totals row
        (spanning the width when `span_totals`)."""
        cells = [[self.p(h, self.cell_center) for h in header]] if with_header else []
        for row in rows:
            cells.append(
                [
                    self.p(v, self.cell_center if i in centered else self.cell)
                    for i, v in enumerate(row)
                ]
            )
        if totals is not None:
            cells.append(
                [
                    self.p(v, self.cell_center if i in centered and not span_totals else self.cell)
                    for i, v in enumerate(totals)
                ]
            )
        heights: list[float | None] | None = [row_height] * len(cells) if row_height else None
        if heights and with_header:
            heights[0] = None
        table = Table(
            cells, colWidths=list(widths), rowHeights=heights, repeatRows=1 if with_header else 0
        )
        style: list[tuple[Any, ...]] = [
            ("GRID", (0, 0), (-1, -1), 0.5, GRID),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        if with_header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
        if totals is not None:
            style.append(("BACKGROUND", (0, -1), (-1, -1), SHADE))
            if span_totals:
                style.append(("SPAN", (0, -1), (-1, -1)))
        table.setStyle(self.grid(style))
        return table

    def closing_table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        widths: Sequence[float],
        then: Sequence[Flowable],
        *,
        keep: int = 3,
        **options: Any,
    ) -> list[Flowable]:
        """A list whose end stays with what follows it (totals, seals): its last `keep` rows,
        the totals and `then` go to the next page together rather than leave the seals alone
        on a page; at the top of that page the header row comes first again."""
        totals = options.pop("totals", None)
        span = options.pop("span_totals", False)
        split = max(0, len(rows) - keep)
        story: list[Flowable] = []
        if split:
            story.append(self.table(header, rows[:split], widths, **options))
        tail = [
            self.table(header, rows[split:], widths, totals=totals, span_totals=span, **options)
        ]
        if split:
            tail.append(
                self.table(
                    header,
                    rows[split:],
                    widths,
                    totals=totals,
                    span_totals=span,
                    with_header=False,
                    **options,
                )
            )
        story.append(KeepTogether([_AtTop(*tail) if split else tail[0], *then]))
        return story

    def signatures(self, rows: Sequence[Signature], width: float, height: float = 30 * mm) -> Table:
        """Signing rows as on a paper form: the office on the left; its opinion, then the
        signer, the seal and the date at the foot of the box."""
        label_width = 30 * mm
        cells = []
        for row in rows:
            # blanks to fill by hand are lines: a paragraph collapses runs of spaces
            foot = f"签字：{row.signer or '____________'}"
            if row.seal:
                foot += "　（盖章）"
            foot += f"　日期：{row.signed_on or '______年____月____日'}"
            cells.append(
                [
                    self.p(row.label, self.cell_center),
                    [
                        self.p(row.opinion or ""),
                        Spacer(1, max(2 * mm, height - 16 * mm)),
                        self.p(foot, self.right),
                    ],
                ]
            )
        table = Table(cells, colWidths=[label_width, width - label_width])
        table.setStyle(
            self.grid(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, GRID),
                    ("VALIGN", (0, 0), (0, -1), "MIDDLE"),
                    ("VALIGN", (1, 0), (1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (0, -1), SHADE),
                ]
            )
        )
        return table

    def seal_boxes(self, labels: Sequence[str], width: float, height: float = 28 * mm) -> Table:
        """Boxes side by side for the offices' seals (函授站（盖章）, 学院（盖章）)."""
        each = width / len(labels)
        cells = [
            [
                [
                    self.p(label, self.cell_center),
                    Spacer(1, height - 14 * mm),
                    self.p("（盖章）　______年____月____日", self.right),
                ]
                for label in labels
            ]
        ]
        table = Table(cells, colWidths=[each] * len(labels), rowHeights=[height])
        table.setStyle(
            self.grid([("GRID", (0, 0), (-1, -1), 0.5, GRID), ("VALIGN", (0, 0), (-1, -1), "TOP")])
        )
        return table

    # -- the document -----------------------------------------------------------------------

    def copies(self, copies: Sequence[tuple[Letterhead, list[Flowable]]]) -> list[Flowable]:
        """One story of several copies, each starting on a page of its own and carrying its
        letterhead (its `copy` label) on every one of its pages; render with the first head."""
        story: list[Flowable] = []
        for index, (head, part) in enumerate(copies):
            if index:
                story += [_NextLetterhead(head), PageBreak()]
            story += part
        return story

    def render(self, head: Letterhead, story: list[Flowable], *, wide: bool = False) -> bytes:
        """The PDF: A4 (landscape when `wide`), the letterhead on every page, page numbers."""
        size = landscape(A4) if wide else A4
        buffer = io.BytesIO()
        document = SimpleDocTemplate(
            buffer,
            pagesize=size,
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=27 * mm,
            bottomMargin=18 * mm,
            title=head.title,
            author=self.college,
            creator="xueji",
            # Else each page's preamble names Helvetica, a font the PDF does not embed.
            initialFontName=self.font,
            # The same request gives the same bytes (no creation time or random file id in
            # the file; the day printed at the foot is the day's): a list filtered by another
            # station's code is byte for byte the list of a code of no station.
            invariant=True,
        )
        kit = self

        def letterhead(canvas: pdf_canvas.Canvas, doc: SimpleDocTemplate) -> None:
            shown = getattr(canvas, _LETTERHEAD, head)
            width, height = size
            canvas.saveState()
            canvas.setFont(kit.font, 13)
            canvas.drawCentredString(width / 2, height - 13 * mm, kit.college)
            canvas.setFont(kit.font, 9)
            left = f"函授站：{shown.station}" if shown.station else "全院"
            canvas.drawString(15 * mm, height - 20 * mm, left)
            right = f"{shown.title}（{shown.copy}）" if shown.copy else shown.title
            canvas.drawRightString(width - 15 * mm, height - 20 * mm, right)
            canvas.setLineWidth(0.6)
            canvas.line(15 * mm, height - 22 * mm, width - 15 * mm, height - 22 * mm)
            canvas.setFont(kit.font, 8)
            canvas.drawRightString(width - 15 * mm, 9 * mm, f"打印日期：{kit.today.isoformat()}")
            canvas.restoreState()

        document.build(
            story,
            onFirstPage=letterhead,
            onLaterPages=letterhead,
            canvasmaker=_numbered(self.font, size),
        )
        return buffer.getvalue()


_LETTERHEAD = "xueji_letterhead"


class _NextLetterhead(Flowable):
    """Drawn last on a page, just before a page break: the pages from the next one on carry
    this letterhead (a page's letterhead is drawn when the page begins)."""

    def __init__(self, head: Letterhead):
        super().__init__()
        self.head = head

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        setattr(self.canv, _LETTERHEAD, self.head)


class _AtTop(Flowable):
    """One of two flowables: the first at the top of a page (the tail of a list with its
    header row), else the second (the same rows, following on from the rows above)."""

    def __init__(self, at_top: Flowable, following: Flowable):
        super().__init__()
        self._choices = (at_top, following)
        self._chosen = following

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        frame = getattr(self, "_frame", None)
        self._chosen = self._choices[0] if getattr(frame, "_atTop", False) else self._choices[1]
        self.width, self.height = self._chosen.wrap(available_width, available_height)
        self.hAlign = getattr(self._chosen, "hAlign", "CENTER")
        return self.width, self.height

    def draw(self) -> None:
        self._chosen.drawOn(self.canv, 0, 0)


def _numbered(font: str, size: tuple[float, float]) -> type[pdf_canvas.Canvas]:
    """A canvas that writes 第 x 页 共 y 页 once it knows how many pages there are."""

    class NumberedCanvas(pdf_canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont(font, 9)
                self.drawCentredString(size[0] / 2, 9 * mm, f"第 {number} 页 共 {total} 页")
                super().showPage()
            super().save()

    return NumberedCanvas


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def content_width(wide: bool = False) -> float:
    """The width a table may take: between the margins, less the frame's padding (6 pt a
    side), so that every table and box of a page lines up."""
    return (landscape(A4) if wide else A4)[0] - 30 * mm - 12


def column_widths(millimetres: Sequence[float], width: float) -> list[float]:
    """A table's column widths in points from widths in mm, the one given as 0 taking what
    the others leave of `width`."""
    rest = width / mm - sum(millimetres)
    return [(w or rest) * mm for w in millimetres]


def station_label(name: str, code: str) -> str:
    return f"{name}（{code}）"


def day(value: Any) -> str:
    """A date as offices write it (2027-03-01); empty for none."""
    if value is None:
        return ""
    return value.date().isoformat() if hasattr(value, "date") else str(value)[:10]
