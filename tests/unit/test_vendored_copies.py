"""The repository keeps copies of two shared files so that a checkout anywhere can run the
tests; when the shared originals sit beside the checkout, the copies must be identical."""

from __future__ import annotations

import pytest

from tests.conftest import SEED_DOCUMENT, SHARED_SEED_DOCUMENT
from tests.fakes.telegram_bot_api import SHARED_SPEC_PATH, SPEC_PATH

NO_SHARED = "no ../shared beside this checkout"


@pytest.mark.skipif(not SHARED_SPEC_PATH.is_file(), reason=NO_SHARED)
def test_the_copied_api_description_is_the_shared_one() -> None:
    assert SPEC_PATH.read_bytes() == SHARED_SPEC_PATH.read_bytes()


@pytest.mark.skipif(not SHARED_SEED_DOCUMENT.is_file(), reason=NO_SHARED)
def test_the_copied_seed_document_is_the_shared_one() -> None:
    assert SEED_DOCUMENT.read_bytes() == SHARED_SEED_DOCUMENT.read_bytes()
