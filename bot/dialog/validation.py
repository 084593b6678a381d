"""Checks of what users type. Each returns the clean value or raises InputError."""

from __future__ import annotations

import re
import unicodedata

NAME_MAX = 100
POSITION_MAX = 100
NOTE_MAX = 2000
BROADCAST_MAX = 1500
AGENCY_NAME_MAX = 200


class InputError(ValueError):
    """The user's input cannot be used; the message says why, in Vietnamese."""


def clean_text(text: str | None) -> str:
    """Normalise to NFC and trim; Vietnamese keyboards may send decomposed letters."""
    if text is None:
        return ""
    return unicodedata.normalize("NFC", text).strip()


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
    digits = re.sub(r"[\s.\-()]", "", value)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise InputError(
            "Số điện thoại chưa đúng. Vui lòng nhập số di động 10 chữ số (ví dụ 0912 345 678) "
            "hoặc số cố định có mã vùng (ví dụ 0227 3831 234)."
        )
    return digits


def progress(text: str | None) -> int:
    value = clean_text(text).rstrip("%").strip()
    if not re.fullmatch(r"\d{1,3}", value) or int(value) > 100:
        raise InputError("Tiến độ là một số từ 0 đến 100 (phần trăm), ví dụ: 60")
    return int(value)


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
