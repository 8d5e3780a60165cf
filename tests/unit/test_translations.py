"""English and German stay in step: every text a page shows through t() has its German, and German holds nothing
no page uses. Building the pages records each text they pass to t() (portal/components/i18n.py: USED)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from services.i18n import LANGUAGES, SOURCE_LANGUAGE, translations
from services.i18n.catalog import catalog

ROOT = Path(__file__).resolve().parents[2]


def _marked_in_services() -> set[str]:
    """Every text services (and the page states) mark for translation where it is shown, found by Babel's
    extractor: N_("fixed text") and say("template with {values}", values=...)."""
    marked: set[str] = set()
    for where in ("services", "portal/state"):
        found = extract_from_dir(
            str(ROOT / where), method_map=[("**.py", "python")], keywords={"N_": None, "say": None}, comment_tags=()
        )
        marked |= {str(message) for _file, _line, message, _comments, _context in found}
    return marked


@pytest.fixture(scope="module")
def used() -> set[str]:
    import portal.portal  # noqa: F401  (declares every page)
    from portal.components.i18n import USED
    from portal.components.layout import DECLARED

    for declared in DECLARED:
        declared.component()
    return set(USED) | _marked_in_services()


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != SOURCE_LANGUAGE])
def test_every_text_the_pages_show_is_in_every_language_and_nothing_more(used: set[str], language: str) -> None:
    translated = translations(language)
    assert sorted(used - set(translated)) == [], f"texts without {LANGUAGES[language]} (add them to its .po file)"
    assert sorted(set(translated) - used) == [], f"{LANGUAGES[language]} texts no page uses (remove them)"
    assert all(m.string for m in catalog(language) if m.id), "an entry without its translation"
    assert len(used) > 50  # the pages really were built (an empty set would pass the two checks above)


def test_a_translation_keeps_what_the_text_holds() -> None:
    """Placeholders and quotes the English text carries are carried by the German one too."""
    for english, german in translations("de").items():
        for mark in ("{", "}", "%s", "<", ">", "\n"):
            assert english.count(mark) == german.count(mark), (english, german)


def _refusal_messages(tree: ast.AST) -> list[ast.expr]:
    """The message arguments of ValidationFailed.single(field, message), ValidationFailed({field: message}) and
    PermissionError(message): what a person is shown when a service refuses."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = ast.unparse(node.func)
        if called == "ValidationFailed.single" and len(node.args) >= 2:
            found.append(node.args[1])
        elif called == "ValidationFailed" and node.args and isinstance(node.args[0], ast.Dict):
            found.extend(v for v in node.args[0].values if v is not None)
        elif called == "PermissionError" and node.args:
            found.append(node.args[0])
    return found


def test_every_refusal_a_service_writes_is_marked_for_translation() -> None:
    """Written text (a literal or an f-string) must be say(...) or N_(...), so the catalogue test above sees it
    and the page shows it in German; a constant is marked where it is defined, text from elsewhere (an exception's
    own words) is passed as it is."""
    unmarked = [
        f"{path.relative_to(ROOT)}:{message.lineno}"
        for path in sorted((ROOT / "services").rglob("*.py"))
        for message in _refusal_messages(ast.parse(path.read_text()))
        if isinstance(message, ast.Constant | ast.JoinedStr)
    ]
    assert unmarked == []
