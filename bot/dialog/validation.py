"""Checks of what users type. Each returns the clean value or raises InputError."""

from __future__ import annotations

import re
import unicodedata

NAME_MAX = 100
POSITION_MAX = 100
NOTE_MAX = 2000
BROADCAST_MAX = 1500
AGENCY_NAME_MAX = 200
# The largest id or number a user may name: INTEGER columns (PostgreSQL's, and ours on SQLite
# by extension) hold no more; a larger one would make the query itself fail.
WHOLE_NUMBER_MAX = 2**31 - 1


class InputError(ValueError):
    """The user's input cannot be used; the message says why, in Vietnamese."""


def clean_text(text: str | None) -> str:
    """Normalise to NFC and trim; Vietnamese keyboards may send decomposed letters."""
    if text is None:
        return ""
    return unicodedata.normalize("NFC", text).strip()


def whole_number(text: str | None, *, max_digits: int = 12) -> int | None:
    """A number typed with any digits a keyboard may send (full-width ０１, circled ①), or None
    (also for a number over :data:`WHOLE_NUMBER_MAX`: no row has such an id)."""
    value = unicodedata.normalize("NFKC", text or "").strip()
    if not re.fullmatch(rf"[0-9]{{1,{max_digits}}}", value):
        return None
    number = int(value)
    return number if number <= WHOLE_NUMBER_MAX else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def person_name(text: str | None) -> str:
    value = _one_line(clean_text(text))
    if not value:
        raise InputError("Họ và tên không được để trống. Vui lòng nhập họ và tên của bạn.")
    if len(value) > NAME_MAX:
        raise InputError(
            f"Họ và tên dài {len(value)} ký tự, tối đa {NAME_MAX} ký tự. Vui lòng nhập lại."
        )
    if any(unicodedata.category(ch) in ("So", "Sk", "Cs", "Co", "Cc", "Cf") for ch in value):
        raise InputError("Họ và tên không được chứa biểu tượng cảm xúc. Vui lòng nhập lại.")
    letters = sum(1 for ch in value if ch.isalpha())
    if letters < 2 or any(ch.isdigit() for ch in value):
        raise InputError("Họ và tên phải gồm chữ cái (không có chữ số). Vui lòng nhập lại.")
    return value


def position(text: str | None) -> str:
    value = _one_line(clean_text(text))
    if not value:
        raise InputError("Chức vụ không được để trống. Vui lòng nhập chức vụ của bạn.")
    if len(value) > POSITION_MAX:
        raise InputError(
            f"Chức vụ dài {len(value)} ký tự, tối đa {POSITION_MAX} ký tự. Vui lòng nhập lại."
        )
    if sum(1 for ch in value if ch.isalpha()) < 2:
        raise InputError("Chức vụ phải có chữ, ví dụ: Chuyên viên phòng Bình đẳng giới.")
    return value


_MOBILE = re.compile(r"^0[35789]\d{8}$")
_LANDLINE = re.compile(r"^02\d{9}$")


def phone(text: str | None) -> str:
    """A Vietnamese phone number, returned as 0xxxxxxxxx."""
    value = clean_text(text)
    digits = re.sub(r"[\s.\-()]", "", unicodedata.normalize("NFKC", value))
    national = digits.removeprefix("+84") if digits.startswith("+84") else None
    if national is None and digits.startswith("84") and len(digits) >= 11:
        national = digits[2:]
    if national is not None:  # +84 912…, 84 912…, and the common "+84 0912…"
        digits = "0" + national.removeprefix("0")
    if not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise InputError(
            "Số điện thoại chưa đúng. Vui lòng nhập số di động 10 chữ số (ví dụ 0912 345 678) "
            "hoặc số cố định có mã vùng (ví dụ 0227 3831 234)."
        )
    return digits


_PROGRESS = re.compile(
    r"(?:khoảng|khoang|đạt|dat|được|duoc|~)?\s*([0-9]{1,3})(?:[.,]0+)?\s*"
    r"(?:%|phần trăm|phan tram)?\s*[.!]?"
)


def progress(text: str | None) -> int:
    """0–100, as people write it: 60, 60%, 60 %, khoảng 60%, 60 phần trăm, đạt 60%."""
    value = unicodedata.normalize("NFKC", clean_text(text)).lower()
    match = _PROGRESS.fullmatch(value)
    if match is None or int(match.group(1)) > 100:
        raise InputError("Tiến độ là một số từ 0 đến 100 (phần trăm), ví dụ: 60")
    return int(match.group(1))


def note(text: str | None, *, max_length: int = NOTE_MAX) -> str:
    value = clean_text(text)
    if not value:
        raise InputError("Ghi chú không được để trống.")
    if len(value) > max_length:
        raise InputError(
            f"Nội dung dài {len(value)} ký tự, tối đa {max_length} ký tự. "
            "Vui lòng rút gọn rồi gửi lại (nội dung đã nhập trước đó vẫn được giữ)."
        )
    return value


def agency_name(text: str | None) -> str:
    value = _one_line(clean_text(text))
    if len(value) < 3 or sum(1 for ch in value if ch.isalpha()) < 2:
        raise InputError("Tên đơn vị phải có ít nhất 3 ký tự, ví dụ: /themdonvi Sở Công Thương")
    if len(value) > AGENCY_NAME_MAX:
        raise InputError(f"Tên đơn vị dài quá {AGENCY_NAME_MAX} ký tự.")
    return value


def fold(text: str) -> str:
    """Lower-case without diacritics, to match what users type against labels."""
    value = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d").lower())
    return " ".join("".join(ch for ch in value if unicodedata.category(ch) != "Mn").split())


_NUMBER = re.compile(
    r"(?:khoảng|khoang|đạt|dat|được|duoc|~)?\s*(\d{1,12}(?:[.,]\d{1,6})?)\s*"
    r"(?:%|phần trăm|phan tram)?\s*[.!]?"
)
INDICATOR_MAX = 10**12


def indicator_value(text: str | None) -> float:
    """A number as people write it: 32, 32,5 (Vietnamese decimal comma), 32.5, 32%, khoảng 32."""
    value = unicodedata.normalize("NFKC", clean_text(text)).lower()
    match = _NUMBER.fullmatch(value)
    if match is None:
        raise InputError(
            "Vui lòng gõ một con số (ví dụ 32 hoặc 32,5), hoặc chọn «Bỏ qua» nếu chưa có số liệu."
        )
    number = float(match.group(1).replace(",", "."))
    if number > INDICATOR_MAX:
        raise InputError("Con số quá lớn. Vui lòng kiểm tra lại.")
    return number


def number_text(value: float) -> str:
    """32.5 → "32,5"; 30.0 → "30" (Vietnamese decimal comma, no trailing zeros)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")
