"""The system check refuses archive settings that could never work."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from archives.checks import check_archive_settings


def test_the_default_settings_pass():
    assert check_archive_settings() == []


@pytest.mark.parametrize("value", [0, -5])
def test_a_limit_below_one_is_an_error(settings, value):
    settings.AIIDASITE_ARCHIVE_MAX_DATABASE_MIB = value

    (error,) = check_archive_settings()

    assert error.id == "archives.E001"
    assert "AIIDASITE_ARCHIVE_MAX_DATABASE_MIB" in error.msg


def test_a_missing_temporary_folder_is_fine_where_it_can_be_made(settings, tmp_path):
    settings.AIIDASITE_TMP_DIR = str(tmp_path / "absent" / "tmp")

    assert check_archive_settings() == []


def test_a_temporary_folder_that_is_a_file_is_an_error(settings, tmp_path):
    (tmp_path / "file").write_text("x")
    settings.AIIDASITE_TMP_DIR = str(tmp_path / "file")

    (error,) = check_archive_settings()

    assert error.id == "archives.E002"


def test_the_check_command_reports_it(settings):
    settings.AIIDASITE_ARCHIVE_MAX_RATIO = 0

    with pytest.raises(SystemCheckError, match=r"archives\.E001"):
        call_command("check", tags=["archives"])
