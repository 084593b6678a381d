"""`nhacviec run` without a token: the console chat, driven through standard input."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import SEED_PLAN_FILE


def run_console(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "ZALO_", "COORDINATOR_", "DATABASE_URL"))
    }
    environment["PLAN_FILE"] = str(SEED_PLAN_FILE)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        input=script,
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_a_coordinator_and_a_focal_point_can_try_the_bot_in_a_terminal(tmp_path: Path) -> None:
    first = run_console("/moi SYT\n:thoat\n", tmp_path)
    assert first.returncode == 0, first.stderr
    code = re.search(r"^([A-Za-z0-9]{22})$", first.stdout, re.MULTILINE)
    assert code is not None, first.stdout
    assert (tmp_path / "data" / "nhacviec.db").is_file()  # SQLite at ./data/

    script = "\n".join(
        [
            ":nguoi can-bo-1",
            f"/start {code.group(1)}",
            "Nguyễn Thị Hoa",
            "Chuyên viên",
            "0912345678",
            "1",  # ✅ Xác nhận
            "/baocao",
            "1",  # Báo cáo sơ kết 6 tháng
            "3",  # Hoàn thành
            "2",  # Bỏ qua (no results task by task)
            "Đã hoàn thành các nội dung",
            "1",  # Bỏ qua (no file)
            "1",  # 📨 Gửi báo cáo
            ":nguoi dieu-phoi",
            "/tonghop",
            "/xuat",
            ":thoat",
            "",
        ]
    )
    second = run_console(script, tmp_path)
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert "  1. ✅ Xác nhận" in out
    assert "Đăng ký thành công! Bạn là cán bộ đầu mối của Sở Y tế" in out
    assert "Đã ghi nhận báo cáo của Sở Y tế" in out
    assert "📨 [gửi tới dieu-phoi] 📥 Sở Y tế vừa gửi báo cáo" in out
    assert "✅❌ Sở Y tế [SYT]" in out  # today the year-end report is overdue
    exports = list((tmp_path / "data" / "console-files").glob("tong-hop-*.xlsx"))
    assert len(exports) == 1
