from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from services.config import PROJECT_ROOT, InsecureSettingsError, Settings


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


def _documented_names() -> set[str]:
    """Every NAME of a `NAME=` or `# NAME=` line of .env.example."""
    text = (PROJECT_ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_env_example_documents_every_setting_and_nothing_else() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    documented = _documented_names()
    assert fields - documented == set(), "settings the code reads but .env.example does not document"
    assert documented - fields == set(), ".env.example names a setting the code never reads"


def test_every_setting_is_read_somewhere_outside_its_declaration() -> None:
    paths = [*(PROJECT_ROOT / "services").rglob("*.py"), *(PROJECT_ROOT / "portal").rglob("*.py")]
    sources = [path.read_text() for path in [*paths, PROJECT_ROOT / "rxconfig.py"] if path.name != "config.py"]
    config = (PROJECT_ROOT / "services" / "config.py").read_text()
    unread = [
        name
        for name in Settings.model_fields
        if not any(re.search(rf"\b{name}\b", source) for source in sources)
        and len(re.findall(rf"\b(self\.)?{name}\b", config)) < 2  # declared, never used
    ]
    assert unread == []


def test_public_url_follows_port_unless_set(tmp_path: Path) -> None:
    assert Settings(var_dir=tmp_path, _env_file=None, port=3100, public_url="").public_url == "http://localhost:3100"
    assert Settings(var_dir=tmp_path, _env_file=None, port=3100, internal_url="").internal_url.endswith(":3100")
    chosen = Settings(var_dir=tmp_path, _env_file=None, port=3100, public_url="https://portal.example.com")
    assert chosen.public_url == "https://portal.example.com"


def test_production_refuses_sqlite_unless_allowed(tmp_path: Path) -> None:
    common = {"var_dir": tmp_path, "_env_file": None, "secret_key": "s" * 48, "allow_test_checkout": True}
    with pytest.raises(InsecureSettingsError, match="PostgreSQL"):
        Settings(environment="production", database_url="", **common).check_startup()
    Settings(environment="production", database_url="", allow_sqlite_in_production=True, **common).check_startup()
    Settings(environment="production", database_url="postgresql+psycopg://x@h/db", **common).check_startup()
    Settings(environment="development", database_url="", **common).check_startup()


def test_worker_counts_suit_the_machine_and_several_web_workers_need_reflex_redis(tmp_path: Path) -> None:
    plain = Settings(var_dir=tmp_path, _env_file=None, redis_url=None, reflex_redis_url="")
    assert plain.web_worker_count() == 1 and plain.job_worker_count() == 1
    scaled = Settings(var_dir=tmp_path, _env_file=None, redis_url="redis://h/0", reflex_redis_url="redis://h/1")
    assert scaled.web_worker_count() == (os.cpu_count() or 1)
    assert scaled.job_worker_count() == max(1, (os.cpu_count() or 1) // 2)
    chosen = Settings(var_dir=tmp_path, _env_file=None, web_workers=3, job_workers=4, reflex_redis_url="redis://h/1")
    assert chosen.web_worker_count() == 3 and chosen.job_worker_count() == 4
    chosen.check_startup()
    with pytest.raises(InsecureSettingsError, match="REFLEX_REDIS_URL"):
        Settings(var_dir=tmp_path, _env_file=None, web_workers=2, reflex_redis_url="").check_startup()
    with pytest.raises(ValueError, match="port"):
        Settings(var_dir=tmp_path, _env_file=None, port=70000)
