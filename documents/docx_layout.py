"""The page and type of a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP), in
python-docx: A4, the margins, Times New Roman for every script, the paragraph styles, the rules
under the header lines, borderless tables, the page number, and paragraphs filled from templates.

python-docx has no API for paragraph borders, page fields or the font of the East Asian slot:
those few pieces are written as WordprocessingML elements here, and nowhere else.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Emu, Length, Mm, Pt
from docx.styles.style import ParagraphStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from documents.formats import xml_safe

FONT = "Times New Roman"
BODY_SIZE = Pt(14)
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(20), Mm(20), Mm(30), Mm(15)
TEXT_WIDTH = Mm(210 - 30 - 15)

Container = DocxDocument | _Cell


@dataclass(frozen=True)
class StyleSpec:
    name: str
    size: int = 14
    bold: bool = False
    italic: bool = False
    align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.JUSTIFY
    first_line: float = 1.0  # cm
    before: int = 0  # pt
    after: int = 6  # pt
    outline: int | None = None  # the level in Word's navigation pane
    keep_with_next: bool = False

    @property
    def style_id(self) -> str | None:
        """The id python-docx gives the style (the name without spaces); None for Normal."""
        return None if self.name == "Normal" else self.name.replace(" ", "")


# The report's paragraph styles; tests find the headings by these names.
BODY = StyleSpec("Normal")
PART = StyleSpec("Report Part", bold=True, before=6, outline=0, keep_with_next=True)
SUBPART = StyleSpec("Report Subpart", bold=True, outline=1, keep_with_next=True)
PLAN_SECTION = StyleSpec(
    "Plan Section", bold=True, italic=True, outline=2, keep_with_next=True, before=3
)
UNIT = StyleSpec("Unit Name", bold=True, outline=3, keep_with_next=True, before=3)
CENTERED = StyleSpec("Header Text", size=13, align=WD_ALIGN_PARAGRAPH.CENTER, first_line=0, after=0)
TABLE_TEXT = StyleSpec(
    "Table Text", size=13, align=WD_ALIGN_PARAGRAPH.LEFT, first_line=0, before=2, after=2
)
STYLES = (PART, SUBPART, PLAN_SECTION, UNIT, CENTERED, TABLE_TEXT)


def rest_of_line(used: Length) -> Length:
    """What is left of the text width once ``used`` is taken."""
    return Emu(TEXT_WIDTH - used)


def set_fonts(element: BaseOxmlElement, name: str = FONT) -> None:
    """Use ``name`` for every script of an rPr, Vietnamese included, and drop theme fonts."""
    rfonts = element.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        element.insert(0, rfonts)
    for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
        rfonts.set(qn(f"w:{slot}"), name)
    for theme in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{theme}"), None)


def _set_language(style: ParagraphStyle, language: str = "vi-VN") -> None:
    rpr = style.element.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        successors = ("w:eastAsianLayout", "w:specVanish", "w:oMath")
        rpr.insert_element_before(lang, *successors)
    lang.set(qn("w:val"), language)


def _apply(style: ParagraphStyle, spec: StyleSpec) -> None:
    style.font.size = Pt(spec.size)
    style.font.bold = spec.bold
    style.font.italic = spec.italic
    set_fonts(style.element.get_or_add_rPr())
    layout = style.paragraph_format
    layout.alignment = spec.align
    layout.first_line_indent = Cm(spec.first_line)
    layout.left_indent = Cm(0)
    layout.space_before, layout.space_after = Pt(spec.before), Pt(spec.after)
    layout.line_spacing_rule = WD_LINE_SPACING.SINGLE
    layout.keep_with_next = spec.keep_with_next
    layout.widow_control = True
    if spec.outline is not None:
        outline = style.element.get_or_add_pPr().get_or_add_outlineLvl()
        outline.val = spec.outline


def set_up(document: DocxDocument) -> None:
    """A4 with the decree's margins; Times New Roman 14 in Vietnamese; the report's styles."""
    section = document.sections[0]
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    section.header_distance = section.footer_distance = Mm(10)
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        for rpr in defaults.iter(qn("w:rPr")):
            set_fonts(rpr)
    normal = document.styles["Normal"]
    assert isinstance(normal, ParagraphStyle)
    _apply(normal, BODY)
    _set_language(normal)
    for spec in STYLES:
        style = document.styles.add_style(spec.name, WD_STYLE_TYPE.PARAGRAPH)
        assert isinstance(style, ParagraphStyle) and style.style_id == spec.style_id
        style.base_style = normal
        style.quick_style = True
        _apply(style, spec)
    _number_pages(document)


def _number_pages(document: DocxDocument) -> None:
    """The page number centred in the top margin, from the second page on (the decree's rule)."""
    section = document.sections[0]
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph._p.get_or_add_pPr().style = CENTERED.style_id
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), ("end", None)):
        if kind is None:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        run._r.append(element)


def paragraph_in(container: Container, style: StyleSpec = BODY) -> Paragraph:
    """A new empty paragraph of ``style``.

    The style is set by its id: python-docx looks a style up by name through every latent
    style of the template, some 3 ms a paragraph, which made a 1,000-unit report take 35 s.
    """
    paragraph = container.add_paragraph()
    if style.style_id is not None:
        paragraph._p.get_or_add_pPr().style = style.style_id
    return paragraph


def write(
    container: Container,
    template: str,
    style: StyleSpec = BODY,
    *,
    values: Mapping[str, str] | None = None,
    italic_fields: Collection[str] = (),
    bold_fields: Collection[str] = (),
    size: int | None = None,
) -> Paragraph:
    """A paragraph of ``template`` filled with ``values``; the named fields set in italic/bold."""
    paragraph = paragraph_in(container, style)
    for literal, field, _, _ in string.Formatter().parse(template):
        pieces = [(literal, "")]
        if field is not None:
            pieces.append(((values or {})[field], field))
        for text, name in pieces:
            if not text:
                continue
            run = paragraph.add_run(xml_safe(text))
            if name in italic_fields:
                run.italic = True
            if name in bold_fields:
                run.bold = True
            if size is not None:
                run.font.size = Pt(size)
    return paragraph


def rule(container: Container, length: Length, width: Length, *, after: int = 0) -> Paragraph:
    """A horizontal line of ``length`` centred in a block ``width`` wide (a bottom border)."""
    paragraph = paragraph_in(container, CENTERED)
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "000000")):
        bottom.set(qn(f"w:{key}"), value)
    border.append(bottom)
    ppr = paragraph._p.get_or_add_pPr()
    ppr.insert_element_before(border, "w:shd", "w:tabs", "w:spacing", "w:ind", "w:jc", "w:rPr")
    margin = Emu(max(0, (width - length) // 2))
    layout = paragraph.paragraph_format
    layout.left_indent = layout.right_indent = margin
    layout.space_before, layout.space_after = Pt(2), Pt(after)
    layout.line_spacing = Pt(2)
    layout.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    return paragraph


def table(
    container: DocxDocument,
    rows: int,
    widths: list[Length],
    *,
    grid: bool,
    indent: Length | None = None,
) -> Table:
    """A table with fixed column widths; with cell borders (``grid``) or without any; shifted
    by ``indent`` from the left margin (negative: into the margin)."""
    result: Table = container.add_table(rows=rows, cols=len(widths))
    if indent is not None:
        shift = OxmlElement("w:tblInd")
        shift.set(qn("w:w"), str(Emu(indent).twips))
        shift.set(qn("w:type"), "dxa")
        successors = ("w:tblBorders", "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook")
        result._tbl.tblPr.insert_element_before(shift, *successors)
    if grid:
        result.style = container.styles["Table Grid"]
    result.autofit = False
    for index, width in enumerate(widths):
        result.columns[index].width = width
        for cell in result.columns[index].cells:
            cell.width = width
    return result


def drop_empty_first(cell: _Cell) -> None:
    """A new cell holds one empty paragraph: once it has text below, drop that blank line."""
    first = cell.paragraphs[0]
    if len(cell.paragraphs) > 1 and not first.text:
        first._p.getparent().remove(first._p)


def keep_rows_whole(table_: Table) -> None:
    """No row of the table is split across two pages."""
    for row in table_.rows:
        trpr = row._tr.get_or_add_trPr()
        trpr.append(OxmlElement("w:cantSplit"))


def repeat_header_row(table_: Table) -> None:
    """The table's first row repeats at the top of every page it runs onto."""
    trpr = table_.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)
