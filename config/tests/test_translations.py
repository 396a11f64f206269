"""The UI ships in 简体中文: every message in the catalogue is translated and compiled."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def _po_entries() -> list[tuple[str, str, str]]:
    """(msgctxt, msgid, msgstr) triples of django.po (plural forms left out), read with a small parser."""
    entries: list[tuple[str, str, str]] = []
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if not ln.startswith("#")]
        fields: dict[str, str] = {}
        key = None
        for line in lines:
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[0\])?) (".*")$', line)
            if match:
                key = match[1].replace("[0]", "")
                fields[key] = ast.literal_eval(match[2])
            elif line.startswith('"') and key:
                fields[key] += ast.literal_eval(line)
        if fields.get("msgid") and "msgid_plural" not in fields:
            entries.append((fields.get("msgctxt", ""), fields["msgid"], fields.get("msgstr", "")))
    return entries


def test_every_message_has_a_chinese_translation() -> None:
    entries = _po_entries()
    assert len(entries) > 100
    untranslated = [msgid for _ctx, msgid, msgstr in entries if not msgstr]
    assert untranslated == []


def test_compiled_catalogue_matches_the_po_file() -> None:
    with (LOCALE / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = [
        msgid
        for ctx, msgid, msgstr in _po_entries()
        if msgstr
        and (catalogue.pgettext(ctx, msgid) if ctx else catalogue.gettext(msgid)) != msgstr
    ]
    assert stale == [], "run `make messages` to recompile django.mo"
