"""The English catalog covers every string the code and templates mark for translation."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None, "lazy_gettext": None}


def _marked_messages() -> set[str]:
    method_map = [("pakn/**.py", "python"), ("workflows/**.py", "python"), ("notifications/**.py", "python"),
                  ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2"), ("templates/**.xml", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, keywords=KEYWORDS, options_map={"templates/**": {}},
            directory_filter=lambda d: not Path(d).name.startswith(".")):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_marked_string_has_an_english_translation():
    with (ROOT / "pakn/translations/en/LC_MESSAGES/messages.po").open("rb") as po:
        catalog = read_po(po, locale="en")
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string}
    missing = sorted(_marked_messages() - translated)
    assert not missing, f"{len(missing)} strings without English: {missing[:10]}"
