"""Text that is not a sentence: repetition, pasted headers, meta text, fragments."""

from __future__ import annotations

import re
from collections import Counter

from sdi.drafting.claims.lexicon import (
    DETERMINERS, FILLER, MACHINE_WORDS, NEGATORS, OK_WORDS, action_class, fault_word, stem, tokens,
)

DEGENERATE_MARKERS = re.compile(
    r"(?i)\bthe source\b|\bsource\s*:|\[[TH]\d{1,2}\]\s*:|\(rule\b|\brule \w+ v\d|\bsentence\s*:|\bhere is\b|"
    r"\bhere's\b|\btalking point\s*:|\bas an ai\b|\bservice record \[|\brecord \[[TH]\d|\bfact \[|"
    r"\d{4}-\d{2}-\d{2} (?:repair|maintenance|inspection|replacement|service|work order) on [\w -]{1,30}:|"
    r"\b[A-Z]{2,4}\d{2,5}-\d{3,6}:|\bnot (?:in|on) the (?:service )?record\b|\bno [A-Z]{2,4}\d{2,5}-\d{3,6}\b|\bexcavator [A-Z]:|\bservice record of\b|\bfound (?:a|the) record\b|\bthe record says so\b|\[[^\]\n]{3,}\]")
# A sentence with no subject of its own: 'was found on excavator B', 'were replaced'.
NO_SUBJECT = re.compile(r"(?i)^\W*(?:was|were|is|are|has|have|had|been|being)\b")
# 'operational and operational', 'found to be in a broken boom hose', 'which was fitted new round punch': no sentence.
GARBLED = re.compile(r"(?i)\b([a-z]{3,}) (?:and|or) \1\b|\bfound to be in an? \b|"
                     r"\b(?:was|were) (?:fitted|replaced|swapped|changed|installed) (?:to (?:an? )?)?new [a-z]|"
                     # 'changed the PN to 9920-440', 'from 1240-015 to 1240-015': a part number is no part
                     r"\b(?:chang|replac|swapp|renew|updat)\w* (?:the|its|their) (?:pn|p/n|part number|part no)\b|"
                     r"\bfrom ([\w/.-]+) to \2\b|\b(?:the|a|an) (?:traced|replaced|swapped|changed|fitted) to\b|\bfrom who\b")


FOUND_BARE = re.compile(r"(?i)\b(?:a|an|the) ((?:[\w/.-]+ ){0,5}[\w/.-]+) (?:was|were) found\s*(?=\[|$|,|\.|\band\b)")


def _found_bare(sentence: str) -> str | None:
    """'… and a LH stick float valve was found': a part found, with no state, fault or finding said of it."""
    for m in FOUND_BARE.finditer(sentence):
        words = tokens(m.group(1))
        if not any(fault_word(w) or w in NEGATORS or w in OK_WORDS for w in words):
            return m.group(1)
    return None


# After 'found': where its object list ends (a clause, a deed of its own, the citation).
FOUND_OBJECT = re.compile(r"(?i)\bfound (?!(?:that|to|out|it|on|in|at|no|nothing|none|all|everything)\b)([^.;:\[\]()]+)")
FOUND_THAT = re.compile(r"(?i)\bfound that ([^.;:\[\]()]+?)\s*(?:\[|\.?\s*$)")
RELATIVE = {"which", "that", "who", "where"}
LINKS = {"was", "were", "is", "are", "been", "has", "had", "have"}
OBJECT_ENDS = {"due", "because", "causing", "caused", "during", "after", "before", "while",
               "when", "with", "as", "so"}
SAYS_STATE = {"flat", "mark", "collision", "deviation", "vibration", "noise", "cavitating", "caviting", "slipping",
              "misaligned", "sticking", "bypassing", "contaminated", "torn", "loose", "u/s"}


def _says_something(words: list[str]) -> bool:
    """Whether an object found says what was wrong (or right) with it: a state, fault, negation or measure."""
    return any(fault_word(w) or w in NEGATORS or w in OK_WORDS or w in SAYS_STATE or w[0].isdigit() for w in words)


def _found_objects(sentence: str) -> list[list[str]]:
    """Each thing listed as found ('found a worn cup and a replacement cup' -> [a worn cup], [a replacement cup]);
    the list ends at a clause or a deed of its own ('… and replaced it')."""
    found: list[list[str]] = []
    for m in FOUND_OBJECT.finditer(sentence):
        current: list[str] = []
        listed = False  # past a comma or 'and' of this list
        for word in re.findall(r"[a-z0-9/'-]+|,", m.group(1).lower()):
            if word in RELATIVE:  # 'a die that was cracked': the clause says it
                current = []
                break
            if word in LINKS or (word.endswith("ed") and not fault_word(word) and word not in SAYS_STATE):
                current = []  # 'it was recommended', 'job closed': a clause of its own, not a thing found
                break
            if word in OBJECT_ENDS or listed and not current and (action_class(word) or word in MACHINE_WORDS):
                break  # '…, c/o protective glass', '…, machine back in production': the list has ended
            if word in (",", "and"):
                found.append(current)
                current, listed = [], True
            else:
                current.append(word)
        found.append(current)
    return [words for words in found if words]


def _found_unsaid(sentence: str, cited: str) -> str | None:
    """'found a replacement cover slide', 'found tool changer': a thing found with nothing said of it, unless the
    record itself says it found that thing."""
    note = cited.lower()
    for words in _found_objects(sentence):
        names = [w for w in words if w.isalpha() and len(w) > 2 and w not in DETERMINERS]
        if not names or _says_something(words):
            continue
        if re.search(r"\bfound\b(?:\W+\w+){0,4}\W+" + re.escape(names[-1][:5]), note):
            continue
        return " ".join(words)
    return None


def _that_without_verb(sentence: str) -> str | None:
    """'found that the TL3030-000666 drive belt Y': what was found names a thing and says nothing of it."""
    for m in FOUND_THAT.finditer(sentence):
        words = re.findall(r"[a-z0-9/'-]+", m.group(1).lower())
        if words and not any(w in LINKS or w.endswith(("ed", "ing", "s")) or action_class(w) or _says_something([w])
                             for w in words):
            return " ".join(words)
    return None


def degenerate(sentence: str, cited: str = "") -> str | None:
    """Why a sentence is not a sentence (repetition, pasted headers, meta text), or None; a phrase the cited text
    itself repeats ('fund l/h back gauge finger bent; fitted new l/h back gauge finger') may repeat."""
    if DEGENERATE_MARKERS.search(sentence):
        return "copies a source header, marker or meta text"
    if UNFINISHED.search(sentence) and not NONE_FOUND.search(sentence):
        return "ends unfinished ('… found:')"
    if NO_SUBJECT.search(sentence):
        return "a fragment with no subject ('was found on …')"
    if GARBLED.search(sentence):
        return "garbled ('operational and operational', 'was fitted new …')"
    if (thing := _found_bare(sentence)) is not None:
        return f"says '{thing}' was found, and nothing about it"
    if (thing := _found_unsaid(sentence, cited)) is not None:
        return f"says it found '{thing}', and nothing about it"
    if (clause := _that_without_verb(sentence)) is not None:
        return f"'found that {clause}': a clause with no verb (a fragment)"
    if sentence.count("[") != sentence.count("]"):
        return "unbalanced bracket (garbled text)"
    if any(m.group(1).lower() not in HEADER_LEADS for m in HEADER_IN_TEXT.finditer(sentence)):
        return "drops a record header into the sentence ('… encoder 2026-07-03 repair on …')"
    words = re.findall(r"[a-z0-9]+", sentence.lower())
    source = re.findall(r"[a-z0-9]+", cited.lower())
    for n, times in ((3, 3), (5, 2)):
        grams = Counter(" ".join(words[k:k + n]) for k in range(len(words) - n + 1))
        echoed = Counter(" ".join(source[k:k + n]) for k in range(len(source) - n + 1))
        if any(c >= times and echoed[g] < c for g, c in grams.items()):
            return "repeats itself"
    if (pair := _near_repeat(words, source)) is not None:
        return f"repeats '{pair}'"
    if (word := _claim_word_twice(_as_written(sentence), _as_written(cited))) is not None:
        return f"says '{word}' twice of one thing ('the lubricated axes were lubricated')"
    if len(words) > 60:
        return "too long for one finding"
    if sentence.count("(") != sentence.count(")"):
        return "unbalanced parenthesis (garbled text)"
    return None


def _near_repeat(words: list[str], source: list[str]) -> str | None:
    """A two-word phrase said again within four words that the source says once ('a gas leak in the gas leak')."""
    echoed = Counter(zip(source, source[1:]))
    for k in range(len(words) - 1):
        pair = (words[k], words[k + 1])
        if pair[0] in FILLER or pair[1] in FILLER or pair[0].isdigit() or pair not in echoed:
            continue
        if pair in zip(words[k + 2:k + 5], words[k + 3:k + 6]) and echoed[pair] < 2:
            return " ".join(pair)
    return None


# Words between a claim word and its repeat that make the repeat fair: a list of deeds or a cause.
BETWEEN_OK = {",", "and", ";", "&", "also", "due", "because", "causing", "caused", "causes", "cause", "from", "after"}


def _claim_word_twice(words: list[str], source: list[str]) -> str | None:
    """A deed or fault word said again within five words ('a faulty light curtain faulty'), unless the source does or
    a cause or a list lies between ('running rough due to a rough engine', 'checked X, cleaned Y and checked Z')."""
    return next(iter(sorted(_said_twice(words) - _said_twice(source))), None)


def _claim_stem(word: str) -> str | None:
    """The stem of a deed or fault word written out (an abbreviation copied as a name, 'the repl chiller filter',
    is no claim)."""
    full = word.isalpha() and len(word) > 4
    return stem(word) if full and (action_class(word) or fault_word(word)) else None


def _said_twice(words: list[str]) -> set[str]:
    """Claim stems said again within five words with no list or cause between."""
    stems = [_claim_stem(w) for w in words]
    return {a for k, a in enumerate(stems) if a and a in (near := stems[k + 1:k + 6])
            and not BETWEEN_OK & set(words[k + 1:k + 1 + near.index(a)])}


def _as_written(text: str) -> list[str]:
    """Words as written (no abbreviation expanded: 'repl' stays 'repl') and the marks that split a list."""
    return re.findall(r"[a-z]+|[,;&]", text.lower())


# A label or list left open where the claim should follow ('… found:', 'Maintenance on PM500 found', '… with the').
NONE_FOUND = re.compile(r"(?i)\b(?:no \w+|nothing|none) found\s*\.?\s*$")  # '… no leaks found.' is finished
UNFINISHED = re.compile(r"(?:[:;,\-–—]|(?i:(?<!was )(?<!were )(?<!been )(?<! is )(?<!are )\bfound|"
                        r"\b(?:the|a|an|of|with|and|or|to|on|that)))\s*\.?\s*$")
HEADER_IN_TEXT = re.compile(r"(?i)(\S+)\s+\d{4}-\d{2}-\d{2} (?:repair|maintenance|inspection|replacement) on ")
HEADER_LEADS = {"the", "a", "an", "on", "in", "of", "during", "at", "from", "since", "last", "its", "this", "that",
                "our", "your", "their", "his", "her", "by", "after", "before"}


def pasted(sentence: str, cited: str) -> bool:
    """A 'label: text' chunk whose 3+ words are copied verbatim from the source ("excavator D: JUMP START …")."""
    flat = " ".join(cited.lower().split())
    for m in re.finditer(r":\s+([^:\[]+)", sentence):
        chunk = " ".join(m.group(1).lower().split()).rstrip(" .")
        if len(chunk.split()) >= 3 and chunk in flat:
            return True
    return False
