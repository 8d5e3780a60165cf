from __future__ import annotations

from pathlib import Path

import pytest

from services.config import InsecureSettingsError, Settings


def test_defaults_are_embedded_sqlite_and_outbox_under_var(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, _env_file=None, database_url="", redis_url=None, smtp_url=None)
    assert settings.database_url == f"sqlite:///{tmp_path / 'portal.db'}"
    assert settings.outbox_dir == tmp_path / "outbox"
    assert settings.redis_url is None and settings.smtp_url is None


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(var_dir=tmp_path, secret_key="", environment="development").resolved_secret_key()
    second = Settings(var_dir=tmp_path, secret_key="", environment="development").resolved_secret_key()
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only


@pytest.mark.parametrize("key", ["", "change-me", "secret", "short-but-not-a-placeholder"])
def test_production_refuses_a_placeholder_or_weak_secret(tmp_path: Path, key: str) -> None:
    with pytest.raises(InsecureSettingsError, match="SECRET_KEY"):
        Settings(var_dir=tmp_path, secret_key=key, environment="production").resolved_secret_key()
    assert not (tmp_path / "secret_key").exists()


def test_production_accepts_a_real_secret(tmp_path: Path) -> None:
    key = "k" * 20 + "0123456789abcdefghijklmnop"
    assert Settings(var_dir=tmp_path, secret_key=key, environment="production").resolved_secret_key() == key


def test_blank_optional_urls_mean_not_configured(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, redis_url="  ", smtp_url="")
    assert settings.redis_url is None and settings.smtp_url is None
