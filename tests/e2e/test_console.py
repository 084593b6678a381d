"""`nhacviec run` without a token: the console chat, driven through standard input."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, SEED_PLAN_FILE


def run_console(
    script: str, cwd: Path, plans: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``nhacviec run`` in ``cwd`` fed ``script``; ``plans``: the plan variables (default: the
    seed plan's file alone)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "ZALO_", "COORDINATOR_", "DATABASE_URL", "PLAN"))
    }
    environment.update(plans if plans is not None else {"PLAN_FILE": str(SEED_PLAN_FILE)})
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
    # The seed plan ended in 2021 and takes no new report; tried as if it were running today.
    running = tmp_path / "seed-running.yaml"
    running.write_text(
        SEED_PLAN_FILE.read_text(encoding="utf-8").replace("status: ended", "status: active"),
        encoding="utf-8",
    )
    plans = {"PLAN_FILE": str(running)}
    first = run_console("/moi SYT\n:thoat\n", tmp_path, plans)
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
    second = run_console(script, tmp_path, plans)
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert "  1. ✅ Xác nhận" in out
    assert "Đăng ký thành công! Bạn là cán bộ đầu mối của Sở Y tế" in out
    assert "Đã ghi nhận báo cáo của Sở Y tế" in out
    assert "📨 [gửi tới dieu-phoi] 📥 Sở Y tế vừa gửi báo cáo" in out
    assert "✅❌ Sở Y tế [SYT]" in out  # today the year-end report is overdue
    exports = list((tmp_path / "data" / "console-files").glob("tong-hop-*.xlsx"))
    assert len(exports) == 1


def test_the_shipped_plans_folder_runs_the_example_and_keeps_the_seed_plan_reachable(
    tmp_path: Path,
) -> None:
    script = "/kehoach\n/tonghop\n/tonghop 40/KH-UBND\n:thoat\n"
    finished = run_console(script, tmp_path, {"PLANS_DIR": str(REPO / "plans")})
    assert finished.returncode == 0, finished.stderr
    out = finished.stdout
    assert "(ví dụ minh họa) (đang thực hiện, 2026–2030)" in out  # /kehoach: both plans
    assert "• 40/KH-UBND — Kế hoạch thực hiện công tác bình đẳng giới năm 2021 (đã kết thúc" in out
    assert "TỔNG HỢP BÁO CÁO — Kế hoạch số 45/KH-UBND" in out  # the one active plan: not asked
    assert "TỔNG HỢP BÁO CÁO — Kế hoạch số 40/KH-UBND" in out  # the ended one, when named
    assert "chọn kế hoạch" not in out
    assert "is a worked example (example: true)" in finished.stderr
