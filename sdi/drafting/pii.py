"""Personal-data minimisation: contact names, e-mails and phone numbers never enter a prompt."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w-])\+?\d[\d ()/-]{7,}\d(?![\w-])")


@dataclass
class Redactor:
    """Replaces known contact details and anything shaped like an e-mail or phone number with placeholders."""

    names: list[str] = field(default_factory=list)
    found: dict[str, str] = field(default_factory=dict)  # placeholder -> original, to restore for allowed roles

    def redact(self, text: str) -> str:
        """Text with personal data replaced by [CONTACT_n] / [EMAIL_n] / [PHONE_n]."""
        for name in sorted({n for n in self.names if n and len(n) > 2}, key=len, reverse=True):
            if name in text:
                text = text.replace(name, self._placeholder("CONTACT", name))
        text = EMAIL.sub(lambda m: self._placeholder("EMAIL", m.group(0)), text)
        return PHONE.sub(lambda m: self._placeholder("PHONE", m.group(0)) if _looks_like_phone(m.group(0)) else m.group(0), text)

    def _placeholder(self, kind: str, original: str) -> str:
        for key, value in self.found.items():
            if value == original:
                return key
        key = f"[{kind}_{sum(1 for k in self.found if k.startswith('[' + kind)) + 1}]"
        self.found[key] = original
        return key

    def restore(self, text: str) -> str:
        """Put the originals back (only for users whose role may see them)."""
        for key, value in self.found.items():
            text = text.replace(key, value)
        return text


def _looks_like_phone(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    # Dates (2026-11-01), part numbers (4471-220) and plain amounts are not phone numbers.
    return len(digits) >= 9 and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip())
