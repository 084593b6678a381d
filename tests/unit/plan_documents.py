"""Plan documents for the importer's tests, written as they are in other provinces, and what a
reader must recover from each; built as .docx (python-docx) and .pdf (fpdf2, DejaVu font).

Each document is a list of elements: a plain paragraph (str), a numbered :class:`Item` with its
tasks, or a two-column :class:`Columns` block (a header or a signature, a table in Word). The
expected values come from the same elements, so a task text is written once.

``python -m tests.unit.plan_documents`` prints the recovery table of README.md.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


@dataclass
class Item:
    """A numbered item; ``section`` is where the draft must put it (None: not an item)."""

    number: str
    heading: str
    tasks: list[str]
    section: str | None = None
    units: tuple[str, ...] = ()
    kind: str = "department"
    group: str | None = None  # "open", "units_file"
    bullet: str | None = "-"

    def paragraphs(self) -> list[str]:
        lines = [f"{self.number}. {self.heading}"]
        for task in self.tasks:
            first, *rest = task.split("\n")
            lines.append(f"{self.bullet} {first}" if self.bullet else first)
            lines.extend(rest)
        return lines


@dataclass
class Columns:
    left: list[str]
    right: list[str]
    table: bool = True  # a table in Word; otherwise the left column, then the right one


Element = str | Item | Columns


@dataclass
class PlanDocument:
    name: str
    elements: list[Element]
    number: str
    issued_on: date
    issuer: str
    province: str
    title: str
    coordinator: str
    reports: list[tuple[str, object, str]]  # (every, due, rule)
    campaigns: list[tuple[str, str, str]]  # (every, starts, ends)
    review_mentions: list[str] = field(default_factory=list)

    def items(self) -> list[Item]:
        return [e for e in self.elements if isinstance(e, Item) and e.section]

    def paragraphs(self) -> list[str]:
        lines: list[str] = []
        for element in self.elements:
            if isinstance(element, Item):
                lines.extend(element.paragraphs())
            elif isinstance(element, Columns):
                lines.extend([*element.left, *element.right])
            else:
                lines.append(element)
        return lines


# --- building files --------------------------------------------------------------------------


def docx_bytes(document: PlanDocument) -> bytes:
    import docx

    word = docx.Document()
    for element in document.elements:
        if isinstance(element, Columns) and element.table:
            table = word.add_table(rows=1, cols=2)
            for cell, texts in zip(table.rows[0].cells, (element.left, element.right), strict=True):
                cell.text = texts[0]
                for text in texts[1:]:
                    cell.add_paragraph(text)
        elif isinstance(element, Columns | Item):
            lines = (
                element.paragraphs()
                if isinstance(element, Item)
                else [*element.left, *element.right]
            )
            for line in lines:
                word.add_paragraph(line)
        else:
            word.add_paragraph(element)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def pdf_bytes(document: PlanDocument) -> bytes:
    """An A4 PDF with an embedded TTF font that has the Vietnamese letters."""
    import pytest
    from fpdf import FPDF

    if not (FONT_DIR / "DejaVuSerif.ttf").exists():
        pytest.skip("fonts-dejavu-core is not installed (apt-get install fonts-dejavu-core)")
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 15, 15)
    pdf.set_auto_page_break(True, 15)
    pdf.add_font("Serif", "", str(FONT_DIR / "DejaVuSerif.ttf"))
    pdf.add_page()
    for element in document.elements:
        if isinstance(element, Columns):
            _pdf_columns(pdf, element)
            continue
        lines = element.paragraphs() if isinstance(element, Item) else [element]
        pdf.set_font("Serif", size=12)
        for line in lines:
            centred = line.isupper() or line.startswith("(Ban hành")
            pdf.multi_cell(0, 6, line, align="C" if centred else "J", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
    return bytes(pdf.output())


def _pdf_columns(pdf: object, columns: Columns) -> None:
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    pdf.set_font("Serif", size=10)
    top = pdf.get_y()
    pdf.multi_cell(70, 5, "\n".join(columns.left), align="C", new_x="LMARGIN", new_y="NEXT")
    bottom = pdf.get_y()
    pdf.set_xy(90, top)
    pdf.multi_cell(105, 5, "\n".join(columns.right), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(bottom, pdf.get_y()) + 4)


def seed_docx_bytes(text: str) -> bytes:
    """The seed text file as a Word file, one paragraph per line."""
    return docx_bytes(_seed_document(text))


def seed_docx_with_word_lists(text: str) -> bytes:
    """The seed as Word writes it when the numbers of section IV and the bullets are Word's
    automatic lists (styles "List Number" and "List Bullet"): not in the paragraphs' text."""
    import re

    import docx

    word = docx.Document()
    in_section_iv = False
    for line in (line.strip() for line in text.splitlines() if line.strip()):
        in_section_iv = in_section_iv or line.startswith("IV. ")
        numbered = re.match(r"^\d{1,2}\. (.*)$", line)
        if in_section_iv and numbered:
            word.add_paragraph(numbered.group(1), style="List Number")
        elif line.startswith("- "):
            word.add_paragraph(line[2:], style="List Bullet")
        else:
            word.add_paragraph(line)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def seed_pdf_bytes(text: str) -> bytes:
    return pdf_bytes(_seed_document(text))


def _seed_document(text: str) -> PlanDocument:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return PlanDocument("seed", list(lines), "", date(2021, 3, 8), "", "", "", "", [], [])


# --- A: child protection, Quảng Bình 2024 — header as a table, numbered targets -------------

CHILDREN = PlanDocument(
    name="quang-binh-2024-tre-em",
    elements=[
        Columns(
            ["ỦY BAN NHÂN DÂN", "TỈNH QUẢNG BÌNH", "-------", "Số: 112/KH-UBND"],
            [
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                "Độc lập - Tự do - Hạnh phúc",
                "---------------",
                "Quảng Bình, ngày 25 tháng 01 năm 2024",
            ],
        ),
        "KẾ HOẠCH",
        "THỰC HIỆN CÔNG TÁC BẢO VỆ, CHĂM SÓC TRẺ EM NĂM 2024",
        "Thực hiện Luật Trẻ em năm 2016 và Chương trình hành động vì trẻ em giai đoạn 2021-2030 của "
        "tỉnh, Ủy ban nhân dân tỉnh ban hành Kế hoạch thực hiện công tác bảo vệ, chăm sóc trẻ em "
        "năm 2024 trên địa bàn tỉnh Quảng Bình như sau:",
        "I. MỤC ĐÍCH, YÊU CẦU",
        "Tạo chuyển biến mạnh mẽ về nhận thức và hành động của các cấp, các ngành, gia đình và xã "
        "hội trong việc thực hiện quyền trẻ em, bảo đảm môi trường sống an toàn, thân thiện cho trẻ "
        "em.",
        "II. CHỈ TIÊU",
        Item(
            "1",
            "Ủy ban nhân dân các huyện, thị xã, thành phố: 100% xây dựng và ban hành kế "
            "hoạch thực hiện công tác trẻ em năm 2024.",
            [],
        ),
        Item(
            "2",
            "Sở Y tế: phấn đấu 95% trẻ em dưới 1 tuổi được tiêm chủng đầy đủ các loại vắc xin.",
            [],
        ),
        Item("3", "Giảm 5% số trẻ em bị xâm hại so với năm 2023.", []),
        "III. NHIỆM VỤ, GIẢI PHÁP",
        Item(
            "1",
            "Tăng cường công tác truyền thông về bảo vệ, chăm sóc trẻ em",
            [
                "Đa dạng hóa các hình thức truyền thông về quyền trẻ em, kỹ năng phòng ngừa xâm hại, "
                "bạo lực, tai nạn thương tích trẻ em, chú trọng truyền thông trên mạng xã hội;",
                "Duy trì và phát huy hiệu quả Tổng đài điện thoại quốc gia bảo vệ trẻ em 111.",
            ],
            section="II.1",
            bullet="a)",
        ),
        Item(
            "2",
            "Tổ chức Tháng hành động vì trẻ em năm 2024",
            [
                "Tổ chức Tháng hành động vì trẻ em từ ngày 01/6 đến ngày 30/6/2024 với chủ đề do Bộ "
                "Lao động - Thương binh và Xã hội hướng dẫn; vận động nguồn lực hỗ trợ trẻ em có hoàn "
                "cảnh đặc biệt.",
            ],
            section="II.2",
            bullet=None,
        ),
        "IV. TỔ CHỨC THỰC HIỆN",
        Item(
            "1",
            "Sở Lao động - Thương binh và Xã hội: Là cơ quan thường trực, chủ trì, phối "
            "hợp với các sở, ngành, địa phương:",
            [
                "Hướng dẫn, kiểm tra việc thực hiện Kế hoạch; tổng hợp kết quả, báo cáo Ủy ban nhân "
                "dân tỉnh và Bộ Lao động - Thương binh và Xã hội;",
                "Chủ trì tổ chức Tháng hành động vì trẻ em năm 2024.",
            ],
            section="IV.1",
            units=("SLDTBXH",),
        ),
        Item(
            "2",
            "Sở Y tế",
            [
                "Chỉ đạo các cơ sở y tế thực hiện tốt công tác chăm sóc sức khỏe ban đầu cho trẻ em, "
                "tiêm chủng mở rộng và phòng, chống suy dinh dưỡng;",
                "Hướng dẫn các cơ sở khám bệnh, chữa bệnh phát hiện, báo cáo các trường hợp trẻ em bị "
                "xâm hại, bạo lực.",
            ],
            section="IV.2",
            units=("SYT",),
        ),
        Item(
            "3",
            "Sở Giáo dục và Đào tạo",
            [
                "Xây dựng trường học an toàn, thân thiện; giáo dục kỹ năng sống, kỹ năng tự bảo vệ "
                "cho học sinh.",
            ],
            section="IV.3",
            units=("SGDDT",),
        ),
        Item(
            "4",
            "Công an tỉnh",
            [
                "Điều tra, xử lý nghiêm các vụ việc xâm hại trẻ em; phối hợp hỗ trợ trẻ em là nạn "
                "nhân trong quá trình tố tụng.",
            ],
            section="IV.4",
            units=("CAT",),
        ),
        Item(
            "5",
            "Sở Văn hóa, Thể thao và Du lịch; Sở Thông tin và Truyền thông",
            [
                "Tăng cường quản lý các hoạt động văn hóa, thông tin, trò chơi trực tuyến có nội dung "
                "không phù hợp với trẻ em.",
            ],
            section="IV.5",
            units=("SVHTTDL", "STTTT"),
        ),
        Item(
            "6",
            "Đề nghị Hội Liên hiệp Phụ nữ tỉnh, Tỉnh đoàn",
            [
                "Vận động hội viên, đoàn viên tham gia bảo vệ, chăm sóc trẻ em; phát hiện, thông báo "
                "kịp thời các trường hợp trẻ em bị xâm hại.",
            ],
            section="IV.6",
            units=("HLHPN", "TINHDOAN"),
            kind="mass-organization",
            bullet=None,
        ),
        Item(
            "7",
            "Đài Phát thanh và Truyền hình Quảng Bình, Báo Quảng Bình",
            [
                "Mở chuyên mục về quyền trẻ em và phòng, chống xâm hại trẻ em.",
            ],
            section="IV.7",
            units=("DAIPTTH", "BAOQB"),
            kind="media",
            bullet=None,
        ),
        Item(
            "8",
            "Ủy ban nhân dân các huyện, thị xã, thành phố",
            [
                "Xây dựng kế hoạch thực hiện công tác trẻ em năm 2024 tại địa phương, trong đó:\n"
                "+ Bố trí kinh phí thực hiện các chương trình, đề án về trẻ em;\n"
                "+ Kiện toàn đội ngũ cộng tác viên bảo vệ trẻ em ở thôn, tổ dân phố.",
                "Chỉ đạo Ủy ban nhân dân cấp xã xây dựng xã, phường phù hợp với trẻ em.",
            ],
            section="IV.8",
            kind="district",
            group="units_file",
        ),
        "Yêu cầu các sở, ban, ngành, địa phương triển khai thực hiện; báo cáo kết quả thực hiện 6 "
        "tháng trước ngày 15/6 và báo cáo năm trước ngày 05/12 (qua Sở Lao động - Thương binh và "
        "Xã hội) để tổng hợp, báo cáo Ủy ban nhân dân tỉnh. Các đơn vị báo cáo kết quả Tháng hành "
        "động vì trẻ em chậm nhất trước ngày 10/7/2024./.",
        Columns(
            ["Nơi nhận:", "- Bộ LĐTBXH;", "- Các sở, ban, ngành;", "- Lưu: VT, KGVX."],
            ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Hồ An Phong"],
        ),
    ],
    number="112/KH-UBND",
    issued_on=date(2024, 1, 25),
    issuer="Ủy ban nhân dân tỉnh Quảng Bình",
    province="Quảng Bình",
    title="Kế hoạch thực hiện công tác bảo vệ, chăm sóc trẻ em năm 2024",
    coordinator="SLDTBXH",
    reports=[
        ("once", "15/06/2024", "before"),
        ("once", "05/12/2024", "before"),
        ("once", "10/07/2024", "before"),
    ],
    campaigns=[("once", "01/06/2024", "30/06/2024")],
    review_mentions=["chậm nhất trước", "không ghi năm", "III. NHIỆM VỤ", "huyện"],
)


# --- B: drug prevention, Hà Tĩnh 2023 — the annex of a Quyết định ---------------------------

DECISION_HEADER = Columns(
    ["ỦY BAN NHÂN DÂN", "TỈNH HÀ TĨNH", "-------", "Số: 215/QĐ-UBND"],
    [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "---------------",
        "Hà Tĩnh, ngày 20 tháng 01 năm 2023",
    ],
)

DRUGS = PlanDocument(
    name="ha-tinh-2023-ma-tuy",
    elements=[
        DECISION_HEADER,
        "QUYẾT ĐỊNH",
        "Ban hành Kế hoạch phòng, chống ma túy năm 2023",
        "ỦY BAN NHÂN DÂN TỈNH HÀ TĨNH",
        "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19/6/2015;",
        "Căn cứ Luật Phòng, chống ma túy ngày 30/3/2021;",
        "Theo đề nghị của Công an tỉnh tại Tờ trình số 35/TTr-CAT ngày 10/01/2023.",
        "QUYẾT ĐỊNH:",
        "Điều 1. Ban hành kèm theo Quyết định này Kế hoạch phòng, chống ma túy năm 2023 trên địa "
        "bàn tỉnh Hà Tĩnh.",
        "Điều 2. Quyết định này có hiệu lực kể từ ngày ký.",
        "Điều 3. Chánh Văn phòng Ủy ban nhân dân tỉnh, Giám đốc Công an tỉnh, Thủ trưởng các sở, "
        "ban, ngành, Chủ tịch Ủy ban nhân dân các huyện, thành phố, thị xã chịu trách nhiệm thi "
        "hành Quyết định này./.",
        Columns(
            ["Nơi nhận:", "- Như Điều 3;", "- Bộ Công an;", "- Lưu: VT, NC."],
            ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Hồng Lĩnh"],
        ),
        Columns(
            ["ỦY BAN NHÂN DÂN", "TỈNH HÀ TĨNH", "-------"],
            [
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                "Độc lập - Tự do - Hạnh phúc",
                "---------------",
            ],
        ),
        "KẾ HOẠCH",
        "Phòng, chống ma túy năm 2023",
        "(Ban hành kèm theo Quyết định số 215/QĐ-UBND ngày 20/01/2023 của Ủy ban nhân dân tỉnh Hà "
        "Tĩnh)",
        "I. MỤC ĐÍCH, YÊU CẦU",
        "Kiềm chế sự gia tăng tội phạm và tệ nạn ma túy; huy động sức mạnh của cả hệ thống chính "
        "trị và toàn dân tham gia phòng, chống ma túy.",
        "II. NHIỆM VỤ, GIẢI PHÁP",
        Item(
            "1",
            "Công tác tuyên truyền, phòng ngừa",
            [
                "Đẩy mạnh tuyên truyền về tác hại của ma túy, nhất là ma túy tổng hợp, trong học sinh, "
                "sinh viên và thanh thiếu niên;",
                "Hưởng ứng Tháng hành động phòng, chống ma túy từ ngày 01/6 đến ngày 30/6/2023 và Ngày "
                "quốc tế phòng, chống ma túy 26/6.",
            ],
            section="II.1",
            bullet="•",
        ),
        Item(
            "2",
            "Công tác đấu tranh, triệt phá tội phạm về ma túy",
            [
                "Tập trung đấu tranh, triệt phá các đường dây mua bán, vận chuyển trái phép chất ma "
                "túy qua tuyến biên giới, cảng biển.",
            ],
            section="II.2",
            bullet="•",
        ),
        "III. TỔ CHỨC THỰC HIỆN",
        Item(
            "1",
            "Công an tỉnh (Cơ quan Thường trực Ban Chỉ đạo phòng, chống tội phạm, tệ nạn "
            "xã hội và xây dựng phong trào toàn dân bảo vệ an ninh Tổ quốc tỉnh)",
            [
                "Chủ trì, phối hợp các sở, ngành, địa phương triển khai thực hiện Kế hoạch; theo dõi, "
                "đôn đốc, kiểm tra và tổng hợp kết quả báo cáo Ủy ban nhân dân tỉnh;",
                "Rà soát, thống kê người sử dụng trái phép chất ma túy, người nghiện ma túy trên địa "
                "bàn tỉnh.",
            ],
            section="IV.1",
            units=("CAT",),
        ),
        Item(
            "2",
            "Bộ Chỉ huy Quân sự tỉnh, Bộ Chỉ huy Bộ đội Biên phòng tỉnh",
            [
                "Phối hợp đấu tranh, ngăn chặn tội phạm ma túy qua tuyến biên giới, trên biển.",
            ],
            section="IV.2",
            units=("BCHQS", "BDBP"),
        ),
        Item(
            "3",
            "Sở Lao động - Thương binh và Xã hội",
            [
                "Quản lý sau cai nghiện; hỗ trợ học nghề, tạo việc làm cho người sau cai nghiện ma "
                "túy.",
            ],
            section="IV.3",
            units=("SLDTBXH",),
        ),
        Item(
            "4",
            "Sở Y tế",
            [
                "Tổ chức điều trị nghiện các chất dạng thuốc phiện bằng thuốc thay thế; quản lý chặt "
                "chẽ thuốc gây nghiện, thuốc hướng thần.",
            ],
            section="IV.4",
            units=("SYT",),
        ),
        Item(
            "5",
            "Sở Giáo dục và Đào tạo",
            [
                "Lồng ghép nội dung phòng, chống ma túy vào hoạt động giáo dục trong nhà trường.",
            ],
            section="IV.5",
            units=("SGDDT",),
        ),
        Item(
            "6",
            "Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh và các tổ chức chính trị - xã hội tỉnh",
            [
                "Vận động nhân dân tham gia phòng, chống ma túy; giám sát việc thực hiện chính sách "
                "về phòng, chống ma túy ở cơ sở.",
            ],
            section="IV.6",
            units=("MTTQ",),
            kind="mass-organization",
            group="open",
            bullet=None,
        ),
        Item(
            "7",
            "Ủy ban nhân dân các huyện, thành phố, thị xã",
            [
                "Xây dựng kế hoạch phòng, chống ma túy năm 2023 của địa phương; bố trí kinh phí và "
                "nhân lực cho công tác phòng, chống ma túy.",
                "Chỉ đạo Ủy ban nhân dân cấp xã xây dựng xã, phường, thị trấn không ma túy.",
            ],
            section="IV.7",
            kind="district",
            group="units_file",
        ),
        "IV. CHẾ ĐỘ THÔNG TIN, BÁO CÁO",
        "Định kỳ hằng quý, các sở, ban, ngành, Ủy ban nhân dân các huyện, thành phố, thị xã báo "
        "cáo kết quả thực hiện về Công an tỉnh (qua Phòng Cảnh sát điều tra tội phạm về ma túy) "
        "chậm nhất ngày 15 của tháng cuối quý; báo cáo năm trước ngày 15/11/2023 để tổng hợp, "
        "báo cáo Ủy ban nhân dân tỉnh và Bộ Công an.",
        Columns(
            ["Nơi nhận:", "- Như trên;", "- Lưu: VT, NC."],
            ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Hồng Lĩnh"],
        ),
    ],
    number="215/QĐ-UBND",
    issued_on=date(2023, 1, 20),
    issuer="Ủy ban nhân dân tỉnh Hà Tĩnh",
    province="Hà Tĩnh",
    title="Kế hoạch phòng, chống ma túy năm 2023",
    coordinator="CAT",
    reports=[("quarter", {"day": 15, "month": "last"}, "by"), ("once", "15/11/2023", "before")],
    campaigns=[("once", "01/06/2023", "30/06/2023")],
    review_mentions=["Quyết định số 215/QĐ-UBND", "III. TỔ CHỨC THỰC HIỆN", "nhóm mở"],
)


# --- C: gender equality, Hưng Yên 2026–2030 — after the 2025 merger, communes, parts ---------

GENDER = PlanDocument(
    name="hung-yen-2026-binh-dang-gioi",
    elements=[
        Columns(
            ["ỦY BAN NHÂN DÂN", "TỈNH HƯNG YÊN", "-------", "Số: 48/KH-UBND"],
            [
                "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                "Độc lập - Tự do - Hạnh phúc",
                "---------------",
                "Hưng Yên, ngày 20 tháng 02 năm 2026",
            ],
            table=False,
        ),
        "KẾ HOẠCH",
        "Thực hiện công tác bình đẳng giới và vì sự tiến bộ của phụ nữ tỉnh Hưng Yên giai đoạn "
        "2026-2030",
        "PHẦN THỨ NHẤT",
        "KẾT QUẢ THỰC HIỆN GIAI ĐOẠN 2021-2025",
        "I. KẾT QUẢ ĐẠT ĐƯỢC",
        Item(
            "1",
            "Sở Lao động - Thương binh và Xã hội đã tham mưu ban hành 12 văn bản chỉ đạo về "
            "bình đẳng giới.",
            [],
        ),
        Item("2", "Công an tỉnh đã điều tra, xử lý 45 vụ bạo lực gia đình.", []),
        "II. TỒN TẠI, HẠN CHẾ",
        "Tỷ lệ nữ tham gia lãnh đạo, quản lý ở một số ngành còn thấp.",
        "PHẦN THỨ HAI",
        "KẾ HOẠCH GIAI ĐOẠN 2026-2030",
        "I. MỤC TIÊU",
        "Phấn đấu đến năm 2030 tỷ lệ nữ cán bộ lãnh đạo, quản lý cấp sở đạt 30%.",
        "II. NHIỆM VỤ VÀ GIẢI PHÁP",
        Item(
            "1",
            "Truyền thông nâng cao nhận thức về bình đẳng giới",
            [
                "Truyền thông về bình đẳng giới trên nền tảng số, mạng xã hội, chú trọng vùng đồng bào "
                "có tỷ lệ mất cân bằng giới tính khi sinh cao;",
                "Hằng năm tổ chức Tháng hành động vì bình đẳng giới và phòng, chống bạo lực trên cơ sở "
                "giới từ ngày 15/11 đến ngày 15/12.",
            ],
            section="II.1",
        ),
        Item(
            "2",
            "Nâng cao năng lực quản lý nhà nước về bình đẳng giới",
            [
                "Tập huấn kiến thức về giới cho cán bộ cấp xã sau sắp xếp đơn vị hành chính.",
            ],
            section="II.2",
        ),
        "III. KINH PHÍ THỰC HIỆN",
        "Kinh phí thực hiện từ nguồn ngân sách nhà nước theo phân cấp hiện hành.",
        "IV. TỔ CHỨC THỰC HIỆN",
        Item(
            "1",
            "Sở Nội vụ: Chủ trì, phối hợp với các sở, ngành, địa phương:",
            [
                "Hướng dẫn, theo dõi, kiểm tra việc thực hiện Kế hoạch;",
                "Tổng hợp kết quả, báo cáo Ủy ban nhân dân tỉnh theo quy định.",
            ],
            section="IV.1",
            units=("SNV",),
        ),
        Item(
            "2",
            "Sở Y tế",
            [
                "Triển khai các biện pháp giảm thiểu mất cân bằng giới tính khi sinh.",
            ],
            section="IV.2",
            units=("SYT",),
        ),
        Item(
            "3",
            "Sở Văn hóa, Thể thao và Du lịch",
            [
                "Lồng ghép nội dung bình đẳng giới trong xây dựng gia đình no ấm, tiến bộ, hạnh phúc.",
            ],
            section="IV.3",
            units=("SVHTTDL",),
        ),
        Item(
            "4",
            "Sở Khoa học và Công nghệ",
            [
                "Hướng dẫn các cơ quan báo chí tuyên truyền về bình đẳng giới trên môi trường số.",
            ],
            section="IV.4",
            units=("SKHCN",),
        ),
        Item(
            "5",
            "Trung tâm Công tác xã hội tỉnh",
            [
                "Cung cấp dịch vụ tư vấn, hỗ trợ nạn nhân bạo lực trên cơ sở giới.",
            ],
            section="IV.5",
            units=("TTCTXH",),
            kind="other",
        ),
        Item(
            "6",
            "Báo và Phát thanh, Truyền hình Hưng Yên",
            [
                "Duy trì chuyên mục về bình đẳng giới và vì sự tiến bộ của phụ nữ.",
            ],
            section="IV.6",
            units=("BAOPTTH",),
            kind="media",
            bullet=None,
        ),
        Item(
            "7",
            "Đề nghị Hội Liên hiệp Phụ nữ tỉnh",
            [
                "Giám sát việc thực hiện pháp luật về bình đẳng giới; giới thiệu nữ cán bộ có năng "
                "lực để quy hoạch.",
            ],
            section="IV.7",
            units=("HLHPN",),
            kind="mass-organization",
            bullet=None,
        ),
        Item(
            "8",
            "Các sở, ban, ngành, đoàn thể tỉnh liên quan",
            [
                "Xây dựng kế hoạch thực hiện nhiệm vụ bình đẳng giới của cơ quan, đơn vị.",
            ],
            section="IV.8",
            group="open",
            bullet=None,
        ),
        Item(
            "9",
            "Ủy ban nhân dân các xã, phường",
            [
                "Xây dựng và triển khai kế hoạch thực hiện công tác bình đẳng giới trên địa bàn;",
                "Bố trí cán bộ phụ trách công tác bình đẳng giới.",
            ],
            section="IV.9",
            kind="commune",
            group="units_file",
        ),
        "Định kỳ 6 tháng, hằng năm, các sở, ban, ngành, Ủy ban nhân dân các xã, phường báo cáo kết "
        "quả thực hiện về Ủy ban nhân dân tỉnh (qua Sở Nội vụ) trước ngày 10/6 và 10/12 hằng năm.",
        "Trong quá trình triển khai thực hiện, nếu có khó khăn, vướng mắc, các đơn vị báo cáo sơ "
        "kết giai đoạn 2026-2028 chậm nhất ngày 15/10/2028 để Ủy ban nhân dân tỉnh chỉ đạo./.",
        Columns(
            ["Nơi nhận:", "- Bộ Nội vụ;", "- UBND các xã, phường;", "- Lưu: VT, VX."],
            ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Phạm Văn Nghiêm"],
        ),
    ],
    number="48/KH-UBND",
    issued_on=date(2026, 2, 20),
    issuer="Ủy ban nhân dân tỉnh Hưng Yên",
    province="Hưng Yên",
    title="Kế hoạch thực hiện công tác bình đẳng giới và vì sự tiến bộ của phụ nữ tỉnh Hưng Yên "
    "giai đoạn 2026-2030",
    coordinator="SNV",
    reports=[("year", "10/6", "before"), ("year", "10/12", "before"), ("once", "15/10/2028", "by")],
    campaigns=[("year", "15/11", "15/12")],
    review_mentions=["Trung tâm Công tác xã hội tỉnh", "xã, phường", "nhóm mở"],
)

DOCUMENTS = (CHILDREN, DRUGS, GENDER)


# --- the seed, as its hand-made plan file says it ----------------------------------------------


def seed_expectation() -> PlanDocument:
    """The seed document's plan as the hand-made file encodes it; IV.15 names its districts only
    as a group in the document (the file lists them from outside knowledge)."""
    from storage.plan_file import read_plan_file

    spec = read_plan_file(
        Path(__file__).resolve().parents[2] / "plans" / "thai-binh-2021-40-kh-ubnd.yaml"
    )
    elements: list[Element] = []
    for cross in spec.cross_cutting:
        elements.append(
            Item(cross.section.split(".")[1], cross.title, list(cross.tasks), cross.section)
        )
    for item in spec.responsibilities:
        group = "open" if item.open else ("units_file" if item.kind == "district" else None)
        codes = () if group else tuple(unit.code for unit in item.units)
        elements.append(
            Item(
                item.section.split(".")[1],
                item.heading,
                list(item.tasks),
                item.section,
                codes,
                item.kind,
                group,
            )
        )
    return PlanDocument(
        name="thai-binh-2021-40-kh-ubnd",
        elements=elements,
        number=spec.number,
        issued_on=spec.issued_on,
        issuer=spec.issuer,
        province=spec.province,
        title=spec.title,
        coordinator=spec.coordinator,
        reports=[("once", f"{d.due_before:%d/%m/%Y}", "before") for d in spec.deadlines],
        campaigns=[
            ("once", f"{c.starts_on:%d/%m/%Y}", f"{c.ends_on:%d/%m/%Y}") for c in spec.campaigns
        ],
    )


# --- recovery: how much of each document the importer gets right ------------------------------

FIELDS = (
    "number",
    "issued_on",
    "issuer",
    "title",
    "coordinator",
    "items",
    "tasks",
    "reports",
    "campaigns",
)


def score(expected: PlanDocument, draft: object) -> dict[str, tuple[int, int]]:
    """(recovered, total) per field of one imported document."""
    from storage.plan_import.model import CrossCuttingItem, DraftPlan, Responsibility

    assert isinstance(draft, DraftPlan)
    result = {
        name: (int(getattr(draft, name).value == getattr(expected, name)), 1)
        for name in ("number", "issued_on", "issuer", "title", "coordinator")
    }
    found: dict[str, CrossCuttingItem | Responsibility] = {
        i.section: i for i in draft.cross_cutting
    }
    found.update({i.section: i for i in draft.responsibilities})
    items = tasks = task_total = 0
    for item in expected.items():
        task_total += len(item.tasks)
        section = item.section or ""
        got = found.get(section)
        if got is None:
            continue
        texts = [task.text for task in got.tasks]
        tasks += sum(1 for i, task in enumerate(item.tasks) if i < len(texts) and texts[i] == task)
        if section.startswith("II."):
            items += int(getattr(got, "title", None) == item.heading)
            continue
        codes = tuple(unit.code for unit in getattr(got, "units", []))
        group_ok = (item.group == "open") == getattr(got, "open", False) and (
            item.group == "units_file"
        ) == (getattr(got, "units_file", None) is not None)
        items += int(codes == item.units and getattr(got, "kind", "") == item.kind and group_ok)
    result["items"] = (items, len(expected.items()))
    result["tasks"] = (tasks, task_total)
    reports = [(r.every, r.due, r.rule) for r in draft.reports]
    result["reports"] = (sum(1 for r in expected.reports if r in reports), len(expected.reports))
    campaigns = [(c.every, c.starts, c.ends) for c in draft.campaigns]
    result["campaigns"] = (
        sum(1 for c in expected.campaigns if c in campaigns),
        len(expected.campaigns),
    )
    return result


def test_files() -> list[tuple[PlanDocument, str, bytes]]:
    """Every test document in every format: (expected, file name, content)."""
    seed_path = (
        Path(__file__).resolve().parents[2] / "plans" / "sources" / "thai-binh-2021-40-kh-ubnd.txt"
    )
    seed_text = seed_path.read_text(encoding="utf-8")
    seed = seed_expectation()
    files = [
        (seed, "thai-binh-2021-40-kh-ubnd.txt", seed_text.encode()),
        (seed, "thai-binh-2021-40-kh-ubnd.docx", seed_docx_bytes(seed_text)),
        (seed, "thai-binh-2021-40-kh-ubnd.pdf", seed_pdf_bytes(seed_text)),
    ]
    for document in DOCUMENTS:
        files.append((document, f"{document.name}.docx", docx_bytes(document)))
        files.append((document, f"{document.name}.pdf", pdf_bytes(document)))
    return files


def recovery_table() -> list[str]:
    """The README's table: field → recovered/total over every test document and format."""
    from storage.plan_import import import_plan_document

    totals = {name: [0, 0] for name in FIELDS}
    files = test_files()
    for expected, name, content in files:
        result = import_plan_document(content, name)
        for field_name, (got, total) in score(expected, result.plan).items():
            totals[field_name][0] += got
            totals[field_name][1] += total
    lines = [
        f"| field ({len(files)} documents) | recovered / total |",
        "| --- | --- |",
    ]
    lines += [f"| {name} | {got}/{total} |" for name, (got, total) in totals.items()]
    return lines


if __name__ == "__main__":
    print("\n".join(recovery_table()))
