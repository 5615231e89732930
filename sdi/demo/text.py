"""Text material for the demo installed base: catalogues, word lists, customer names, service notes, mapping file."""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date


def _split(text: str) -> tuple[str, ...]:
    """A word list written as one comma-separated string."""
    return tuple(item.strip() for item in text.split(","))


@dataclass(frozen=True)
class ModelSpec:
    """One machine model of the demo OEM's catalogue."""

    name: str
    line: str
    family: str
    interval_h: int
    end_of_life: date | None
    successor: str
    parts_discontinued: bool
    built_from: int
    built_to: int
    popularity: float
    events_per_year: float
    contract_per_year: float


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("TL-2510", "Laser cutting", "laser", 500, date(2021, 6, 30), "TL-3030", False, 2006, 2021, 1.0, 15, 9000),
    ModelSpec("TL-3030", "Laser cutting", "laser", 500, None, "", False, 2014, 2026, 1.4, 12, 11000),
    ModelSpec("TL-4020", "Laser cutting", "laser", 600, None, "", False, 2019, 2026, 1.0, 10, 14000),
    ModelSpec("PB-800", "Press brakes", "brake", 2000, date(2018, 12, 31), "PB-1100", True, 2004, 2018, 1.0, 8, 3000),
    ModelSpec("PB-1100", "Press brakes", "brake", 2000, None, "", False, 2011, 2026, 1.5, 6, 3800),
    ModelSpec("PB-2300", "Press brakes", "brake", 2500, None, "", False, 2018, 2026, 0.8, 5, 5200),
    ModelSpec("PM-500", "Punching machines", "punch", 1000, date(2024, 9, 30), "PM-750", False, 2008, 2024, 1, 11,
              6000),
    ModelSpec("PM-750", "Punching machines", "punch", 1000, None, "", False, 2016, 2026, 0.9, 9, 7000),
    ModelSpec("BC-200", "Bending cells", "bend", 1500, None, "", False, 2015, 2026, 0.6, 9, 7500),
    ModelSpec("TC-1200", "Punch-laser combination", "combi", 750, None, "", False, 2020, 2026, 0.5, 13, 12000),
)

# (code, description, kind, severity, component key)
EventCode = tuple[str, str, str, str, str]
CODES: dict[str, tuple[EventCode, ...]] = {
    "laser": (
        ("E-101", "Nozzle collision detected", "alarm", "warning", "nozzle"),
        ("E-112", "Protective glass contaminated", "error", "warning", "glass"),
        ("E-118", "Cutting gas pressure low", "alarm", "warning", "gasvalve"),
        ("E-125", "Capacitive height sensor fault", "error", "warning", "capsensor"),
        ("E-131", "Chiller flow too low", "alarm", "warning", "chiller"),
        ("E-140", "Laser power drop", "error", "warning", "lens"),
        ("E-152", "Beam path purge pressure low", "alarm", "info", "gasvalve"),
        ("E-177", "Dust extraction filter clogged", "alarm", "info", "dust"),
        ("E-190", "Resonator failure", "failure", "critical", "head"),
        ("E-195", "Y-axis drive overcurrent", "failure", "critical", "ybelt"),
    ),
    "brake": (
        ("E-401", "Back gauge position deviation", "error", "warning", "gauge"),
        ("E-409", "Y1/Y2 synchronisation error", "error", "warning", "scale"),
        ("E-417", "Hydraulic pressure low", "alarm", "warning", "psensor"),
        ("E-422", "Hydraulic oil temperature high", "alarm", "warning", "oilfilter"),
        ("E-430", "Light curtain interrupted", "alarm", "info", "curtain"),
        ("E-436", "Crowning system fault", "error", "warning", "tool"),
        ("E-448", "Proportional valve fault", "failure", "critical", "propvalve"),
        ("E-455", "Ram position encoder fault", "failure", "critical", "scale"),
        ("E-461", "Oil filter clogged", "alarm", "info", "oilfilter"),
    ),
    "punch": (
        ("E-601", "Punch tool not released", "error", "warning", "punch"),
        ("E-612", "Turret index position error", "error", "warning", "indexpin"),
        ("E-618", "Sheet clamp open", "alarm", "info", "clamp"),
        ("E-625", "Stripper force exceeded", "alarm", "warning", "stripper"),
        ("E-633", "Lubrication pump fault", "error", "warning", "lube"),
        ("E-640", "Hydraulic unit pressure low", "alarm", "warning", "accu"),
        ("E-658", "Punch head hydraulic failure", "failure", "critical", "accu"),
        ("E-666", "Main drive overload", "failure", "critical", "encoder"),
    ),
    "bend": (
        ("E-801", "Gripper vacuum lost", "alarm", "warning", "vacuum"),
        ("E-812", "Robot path collision", "failure", "critical", "cablepack"),
        ("E-818", "Tool change timeout", "error", "warning", "beam"),
        ("E-825", "Part not detected", "alarm", "info", "gripper"),
        ("E-833", "Safety door open during cycle", "alarm", "info", "scanner"),
        ("E-840", "Bending beam axis following error", "error", "warning", "beam"),
    ),
    "common": (
        ("E-901", "Emergency stop pressed", "alarm", "info", "estop"),
        ("E-915", "Control cabinet temperature high", "alarm", "warning", "filtermat"),
        ("E-920", "Servo encoder signal lost", "error", "warning", "encoder"),
        ("E-950", "CNC controller watchdog timeout", "failure", "critical", "battery"),
    ),
}

# component key -> (part number or "", has a left/right side, names, faults); names and faults are "|"-separated
Component = tuple[str, bool, str, str]
COMPONENTS: dict[str, Component] = {
    "nozzle": ("1203-110", False, "nozzle|cutting nozzle", "worn|damaged|burnt|out of round"),
    "glass": ("1203-145", False, "protective glass|prot. glass|cover slide", "dirty|burnt|cracked|spattered"),
    "lens": ("1210-020", False, "focus lens|lens", "contaminated|burn mark on|thermal lensing on"),
    "holder": ("1218-330", False, "nozzle holder|ceramic ring", "cracked|loose"),
    "capsensor": ("1225-400", False, "capacitive sensor cable|height sensor cable", "damaged|intermittent|chafed"),
    "chiller": ("1240-015", False, "chiller filter|chiller", "blocked|dirty|low flow on"),
    "ybelt": ("1251-870", True, "Y axis drive belt|Y-axis belt|drive belt Y", "worn|noisy|slack|teeth damaged on"),
    "head": ("1262-300", False, "cutting head|laser head", "crash damage on|not calibrating|water in"),
    "gasvalve": ("1277-050", False, "cutting gas valve|N2 valve|gas valve", "leaking|sticking"),
    "dust": ("1290-610", False, "dust extraction filter|extraction filter", "clogged|blocked|full"),
    "psensor": ("4471-220", False, "pressure sensor|hydraulic pressure sensor", "faulty|reading low|no signal from"),
    "cyl": ("4410-105", True, "hydraulic cylinder|main cylinder|ram cylinder", "leaking|oil leak on|seals worn on"),
    "oilfilter": ("4432-760", False, "hydraulic oil filter|oil filter|return filter", "clogged|dirty|bypassing"),
    "gauge": ("4455-310", True, "back gauge finger|backgauge finger", "bent|worn|broken"),
    "ballscrew": ("4460-880", False, "back gauge ball screw|X axis ball screw", "backlash on|noisy"),
    "propvalve": ("4480-015", False, "proportional valve|prop valve Y1|prop valve Y2", "sticking|faulty|coil burnt on"),
    "curtain": ("4490-402", True, "light curtain|light curtain transmitter", "misaligned|faulty|intermittent"),
    "tool": ("4415-990", False, "upper tool|upper tool segment|crowning wedge", "chipped|worn|cracked"),
    "scale": ("4419-200", True, "linear scale|Y1 scale|Y2 scale", "dirty|faulty|loose"),
    "pump": ("", False, "hydraulic pump|main pump", "noisy|low output on|cavitating"),
    "punch": ("6602-110", False, "punch|round punch 30mm", "worn|chipped|blunt"),
    "die": ("6602-240", False, "die|die 30.5", "worn|cracked"),
    "stripper": ("6615-330", False, "stripper|stripper plate", "worn|broken"),
    "indexpin": ("6630-500", False, "turret index pin|index pin", "worn|sheared|sticking"),
    "lube": ("6640-120", False, "lube pump|lubrication pump|central lube unit", "faulty|no output on|leaking"),
    "clamp": ("6651-880", True, "sheet clamp|clamp pads", "slipping|worn"),
    "accu": ("6660-300", False, "hydraulic accumulator|accumulator", "lost precharge on|leaking"),
    "vacuum": ("8801-045", False, "vacuum cups|suction cups", "worn|leaking|torn"),
    "gripper": ("8812-300", True, "gripper finger|gripper jaw", "broken|bent|worn"),
    "cablepack": ("8820-770", False, "robot cable pack|dress pack", "damaged|chafed"),
    "scanner": ("8833-010", False, "safety scanner|area scanner", "faulty|dirty|misaligned"),
    "beam": ("8840-560", True, "bending beam guide|beam guide rail", "worn|play in"),
    "filtermat": ("9901-001", False, "cabinet filter mat|filter mat control cabinet", "dirty|clogged"),
    "encoder": ("9910-230", True, "servo motor encoder|motor encoder", "faulty|intermittent"),
    "battery": ("9920-440", False, "CNC battery|control battery", "low|flat"),
    "estop": ("", False, "e-stop circuit|emergency stop button", "faulty|sticking"),
}

FAMILY_COMPONENTS: dict[str, tuple[str, ...]] = {
    "laser": ("nozzle", "glass", "lens", "holder", "capsensor", "chiller", "ybelt", "head", "gasvalve", "dust"),
    "brake": ("psensor", "cyl", "oilfilter", "gauge", "ballscrew", "propvalve", "curtain", "tool", "scale", "pump"),
    "punch": ("punch", "die", "stripper", "indexpin", "lube", "clamp", "accu"),
    "bend": ("vacuum", "gripper", "cablepack", "scanner", "beam", "curtain"),
    "combi": ("nozzle", "glass", "lens", "ybelt", "punch", "die", "indexpin", "lube", "clamp"),
    "common": ("filtermat", "encoder", "battery"),
}

# part number -> (name, list price EUR, wear part)
PARTS: dict[str, tuple[str, float, bool]] = {
    "1203-110": ("Nozzle set (10 pcs)", 85.0, True),
    "1203-145": ("Protective glass", 120.0, True),
    "1210-020": ("Focus lens 7.5in", 640.0, True),
    "1218-330": ("Ceramic nozzle holder", 210.0, True),
    "1225-400": ("Capacitive sensor cable", 160.0, False),
    "1240-015": ("Chiller filter", 95.0, True),
    "1251-870": ("Y-axis drive belt", 780.0, False),
    "1262-300": ("Cutting head assembly", 8900.0, False),
    "1277-050": ("Cutting gas valve", 430.0, False),
    "1290-610": ("Dust extraction filter cartridge", 260.0, True),
    "4410-105": ("Ram seal kit", 540.0, True),
    "4415-990": ("Upper tool segment", 420.0, True),
    "4419-200": ("Linear scale", 890.0, False),
    "4432-760": ("Hydraulic oil filter", 110.0, True),
    "4455-310": ("Back gauge finger", 190.0, True),
    "4460-880": ("Back gauge ball screw", 1650.0, False),
    "4471-220": ("Hydraulic pressure sensor", 380.0, False),
    "4480-015": ("Proportional valve Y1/Y2", 2300.0, False),
    "4490-402": ("Light curtain transmitter", 1150.0, False),
    "6602-110": ("Punch round 30 mm", 150.0, True),
    "6602-240": ("Die 30.5 mm", 120.0, True),
    "6615-330": ("Stripper plate", 95.0, True),
    "6630-500": ("Turret index pin", 260.0, True),
    "6640-120": ("Lubrication pump", 720.0, False),
    "6651-880": ("Clamp pad set", 140.0, True),
    "6660-300": ("Hydraulic accumulator", 1900.0, False),
    "8801-045": ("Vacuum cup set", 180.0, True),
    "8812-300": ("Gripper finger", 240.0, True),
    "8820-770": ("Robot cable pack", 2600.0, False),
    "8833-010": ("Safety scanner", 1800.0, False),
    "8840-560": ("Bending beam guide", 960.0, False),
    "9901-001": ("Control cabinet filter mat", 35.0, True),
    "9910-230": ("Servo motor encoder", 1250.0, False),
    "9920-440": ("CNC battery", 45.0, True),
}

MAINT_TASKS: dict[str, tuple[str, ...]] = {
    "laser": ("changed nozzle set", "cleaned protective glass", "checked focus lens", "replaced chiller filter",
              "cleaned dust extraction", "lubricated axes", "checked gas pressures", "centred beam",
              "checked Y axis belt tension", "cleaned slats"),
    "brake": ("changed hydraulic oil filter", "checked hydraulic oil level", "topped up hydraulic oil",
              "checked back gauge", "greased ram guides", "checked light curtain", "tested e-stops",
              "checked cylinder seals", "calibrated Y1/Y2"),
    "punch": ("checked turret alignment", "greased index pins", "checked lube pump", "sharpened punches",
              "replaced clamp pads", "checked hydraulic pressure", "cleaned scrap chute", "tested e-stops"),
    "bend": ("replaced vacuum cups", "checked gripper fingers", "checked robot cable pack", "tested safety scanner",
             "greased beam guides", "checked tool changer", "backed up robot program"),
    "combi": ("changed nozzle set", "cleaned protective glass", "checked turret alignment", "greased index pins",
              "lubricated axes", "checked lube pump", "replaced chiller filter"),
}

FOLLOW_UPS = (
    "test run ok", "ran test program 2h no faults", "machine back in production", "waiting on parts",
    "return visit needed", "advised operator to clean daily", "checked with operator", "all other axes ok",
    "no leaks found", "left machine running", "job closed", "monitor at next visit", "quote to follow",
    "parts ordered", "temporary fix only", "informed shift supervisor",
)
REMARKS = (
    "customer asked about quote for new axis drive", "customer wants offer for maintenance contract",
    "operator says machine is getting louder", "customer considering replacement with newer model",
    "customer asked for spare nozzles to keep in stock", "customer unhappy about downtime, wants faster response",
    "customer asks if retrofit of control is possible", "production manager asked for operator training",
    "customer asked about price of wear parts kit", "customer mentioned second shift starting next month",
    "customer asked about extended warranty", "customer wants the machine checked before audit",
)
CUSTOMER_WORD = ("customer", "cust", "cust.", "customer")
REPORT_HOW = ("again", "several times", "on night shift", "")

ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"\bhydraulic\b", "hyd"), (r"\bcylinder\b", "cyl"), (r"\bleft hand\b", "L/H"), (r"\bright hand\b", "R/H"),
    (r"\bpart number\b", "p/n"), (r"\bchecked\b", "chk"), (r"\bcheck\b", "chk"), (r"\breplaced\b", "repl"),
    (r"\breplace\b", "repl"), (r"\badjusted\b", "adj"), (r"\badjust\b", "adj"), (r"\bchanged out\b", "c/o"),
    (r"\bchange out\b", "c/o"), (r"\bwith\b", "w/"), (r"\bcustomer\b", "cust"), (r"\bapproximately\b", "approx"),
    (r"\bmaintenance\b", "maint"), (r"\binspection\b", "insp"), (r"\bpressure\b", "press."),
    (r"\btemperature\b", "temp"), (r"\bvibration\b", "vib"),
)
_ABBR = tuple((re.compile(p, re.IGNORECASE), r) for p, r in ABBREVIATIONS)
_PROTECT = re.compile(r"(\x01[^\x02]*\x02)")


@dataclass(frozen=True)
class NoteContext:
    """What a note may mention: the machine's family and interval, an event code, a reading, a counter."""

    family: str
    interval_h: int
    code: EventCode | None = None
    vibration: float | None = None
    counter_h: float | None = None
    old_machine: bool = False
    successor: str = ""


def _p(token: str) -> str:
    """Protect a token (code, part number, measurement) from case changes and typos."""
    return f"\x01{token}\x02"


def _pn(rng: random.Random, pn: str) -> str:
    return rng.choice(("P/N ", "p/n ", "PN ", "pn ", "part ", "")) + _p(pn)


def _side(rng: random.Random) -> str:
    return rng.choice(("left hand ", "right hand ", "L/H ", "R/H ", "LH ", "RH "))


def _component(rng: random.Random, family: str, key: str | None = None) -> tuple[str, str, str]:
    """(display name incl. side, fault, part number) for a random or given component."""
    if key is None:
        pool = FAMILY_COMPONENTS["common"] if rng.random() < 0.1 else FAMILY_COMPONENTS[family]
        key = rng.choice(pool)
    pn, sided, names, faults = COMPONENTS[key]
    name = rng.choice(names.split("|"))
    if sided and rng.random() < 0.7:
        name = _side(rng) + name
    return name, rng.choice(faults.split("|")), pn


def _bare(fault: str) -> str:
    """A fault without its trailing preposition ("backlash on" -> "backlash")."""
    return fault.removesuffix(" on").removesuffix(" in")


def _fault_phrase(rng: random.Random, name: str, fault: str) -> str:
    if fault.endswith(" on") or fault.endswith(" in"):
        return f"{fault} {name}"
    return rng.choice((f"{name} {fault}", f"{fault} {name}", f"found {name} {fault}"))


def _action(rng: random.Random, name: str, pn: str) -> tuple[str, list[str]]:
    verb = rng.choice(("replaced", "replace", "changed", "changed out", "fitted new", "renewed", "swapped"))
    if not pn:
        verb = rng.choice(("repaired", "adjusted", "cleaned and adjusted", "rebuilt", "reset"))
        return f"{verb} {name}", []
    text = f"{verb} {name}"
    if rng.random() < 0.55:
        text += " " + _pn(rng, pn)
    return text, [pn]


VIBRATION_SPOTS: dict[str, tuple[str, ...]] = {
    "laser": ("at Y axis motor", "on Y axis gearbox", "at cutting head drive", "on main drive"),
    "brake": ("on main pump", "at hydraulic pump motor", "on main drive", "at back gauge drive"),
    "punch": ("on spindle", "on punch head spindle", "at turret drive", "on main drive"),
    "bend": ("on robot axis 2", "at beam drive", "on main drive", "at gripper spindle"),
    "combi": ("on spindle", "at Y axis motor", "on punch head spindle", "on main drive"),
}
ADVICE: dict[str, tuple[str, ...]] = {
    "laser": ("to clean the protective glass every shift", "to check nozzle centring after each crash",
              "to empty the slag tray more often"),
    "brake": ("to keep the hydraulic oil level above min", "not to bridge the light curtain",
              "to report oil leaks straight away"),
    "punch": ("to grease the index pins weekly", "to regrind punches before they get blunt",
              "to keep the scrap chute clear"),
    "bend": ("to check the vacuum cups daily", "not to teach robot paths at full speed",
             "to keep the gripper fingers clean"),
    "combi": ("to clean the protective glass every shift", "to grease the index pins weekly"),
}
ADVICE_ANY = ("to send a photo of the alarm screen next time", "to call the hotline before resetting alarms")
RECOMMENDATIONS = (
    "recommend full hydraulic overhaul within next 6 months",
    "recommend retrofit of control, spare parts for this generation getting hard to source",
    "recommend wear parts kit on stock at customer", "recommend shorter service interval given 3-shift operation",
    "recommend maintenance contract, machine had several unplanned stops this year",
)


def _measurement(rng: random.Random, ctx: NoteContext) -> str:
    if ctx.vibration is not None:
        return f"vibration {_p(f'{ctx.vibration:.1f} mm/s')} {rng.choice(VIBRATION_SPOTS[ctx.family])}"
    if ctx.family == "brake":
        return f"system pressure {_p(str(rng.randint(180, 290)) + ' bar')}"
    if ctx.family in ("laser", "combi"):
        return f"laser power at {_p(str(rng.randint(84, 99)) + ' %')} of nominal"
    if ctx.family == "bend":
        return f"vacuum at gripper {_p('-0.' + str(rng.randint(55, 85)) + ' bar')}"
    return f"hyd oil temp {_p(str(rng.randint(38, 61)) + ' C')}"


def _long_story(rng: random.Random, ctx: NoteContext) -> list[str]:
    """Extra sentences that make a note long: downtime, second finding, advice, recommendation."""
    name, fault, _ = _component(rng, ctx.family)
    extra = [
        f"machine was down approx {rng.randint(2, 30)} h before we arrived",
        f"also checked {name}, " + rng.choice(("ok", "no defects", f"{_bare(fault)}, to be replaced next visit")),
        f"spoke with {rng.choice(('operator', 'shift supervisor', 'maintenance manager'))} and advised "
        + rng.choice(ADVICE[ctx.family] + ADVICE_ANY),
        rng.choice(RECOMMENDATIONS),
        f"total time on site {rng.randint(2, 9)} h incl. test run",
    ]
    return rng.sample(extra, k=rng.randint(2, 4))


def _repair(rng: random.Random, ctx: NoteContext) -> tuple[list[str], list[str]]:
    sentences: list[str] = []
    if ctx.code is not None:
        code, desc, _, _, key = ctx.code
        sentences.append(rng.choice((
            f"{_p(code)} {desc.lower()}",
            f"machine stops with {_p(code)}",
            f"{rng.choice(CUSTOMER_WORD)} reports {_p(code)} {rng.choice(REPORT_HOW)}".strip(),
            f"alarm {_p(code)} - {desc.lower()}",
            f"{desc} ({_p(code)})",
        )))
        name, fault, pn = _component(rng, ctx.family, key)
        finding = _fault_phrase(rng, name, fault).removeprefix("found ")
        sentences.append(rng.choice(("found ", "traced to ", "cause: ", "")) + finding)
    else:
        name, fault, pn = _component(rng, ctx.family)
        sentences.append(_fault_phrase(rng, name, fault))
    action, parts = _action(rng, name, pn)
    sentences.append(action)
    return sentences, parts


def _maintenance(rng: random.Random, ctx: NoteContext) -> tuple[list[str], list[str]]:
    head = rng.choice((f"{ctx.interval_h}h service", f"{ctx.interval_h} h maintenance", "PM service",
                       "preventive maintenance as per schedule", "annual maintenance", "scheduled service"))
    if ctx.counter_h is not None and ctx.counter_h < ctx.interval_h / 2:
        head = rng.choice(("first service after commissioning", "commissioning check and first service"))
    if ctx.counter_h is not None and rng.random() < 0.6:
        head += rng.choice((" at ", ", counter ", " @ ")) + _p(f"{ctx.counter_h:.0f} h")
    sentences = [head]
    tasks = rng.sample(MAINT_TASKS[ctx.family], k=rng.randint(1, 4))
    sentences.append(", ".join(tasks))
    parts: list[str] = []
    if rng.random() < 0.45:
        name, _, pn = _component(rng, ctx.family)
        if pn and PARTS[pn][2]:
            action, parts = _action(rng, name, pn)
            sentences.append(action)
    return sentences, parts


def _inspection(rng: random.Random, ctx: NoteContext) -> tuple[list[str], list[str]]:
    sentences = [rng.choice(("annual safety inspection", "visual inspection", "inspection after customer call",
                             "safety check light curtains and e-stops", "condition check", "site visit, inspection"))]
    if ctx.vibration is not None:
        sentences.append(_measurement(rng, ctx))
        if ctx.vibration > 7.1:
            sentences.append(rng.choice(("above limit, recommend bearing change out at next visit",
                                         "too high - recommend repl of spindle bearing", "bearing noise audible",
                                         "over alarm limit, quote for bearing kit sent")))
        else:
            sentences.append(rng.choice(("still below limit but rising since last visit", "trend rising, monitor",
                                         "higher than last visit, recheck in 4 weeks", "slight bearing noise")))
        return sentences, []
    if rng.random() < 0.6:
        sentences.append(rng.choice(("all ok", "no findings", "everything within spec", "ok, no defects")))
    else:
        name, fault, _ = _component(rng, ctx.family)
        advice = rng.choice(("replacement", "repl", "change out"))
        sentences.append(f"{_fault_phrase(rng, name, fault)}, recommend {advice}")
    if rng.random() < 0.3:
        sentences.append(_measurement(rng, ctx))
    return sentences, []


def _replacement(rng: random.Random, ctx: NoteContext) -> tuple[list[str], list[str]]:
    name, fault, pn = _component(rng, ctx.family)
    if not pn:
        name, fault, pn = _component(rng, ctx.family, rng.choice(FAMILY_COMPONENTS[ctx.family][:3]))
    sentences = [rng.choice((f"change out {name}", f"replace {name}", f"{name} replacement",
                             f"fitted new {name}", f"c/o {name}"))]
    if pn:
        sentences.append(_pn(rng, pn).strip())
    if rng.random() < 0.5:
        sentences.append(rng.choice(("old one worn beyond limit", "old one: " + _fault_phrase(rng, name, fault),
                                     "as per last inspection", "planned replacement", "customer requested")))
    return sentences, [pn] if pn else []


_BUILDERS = {"repair": _repair, "maintenance": _maintenance, "inspection": _inspection, "replacement": _replacement}


def _typo(rng: random.Random, text: str) -> str:
    words = [(m.start(), m.end()) for m in re.finditer(r"[A-Za-z]{5,}", text)]
    if not words:
        return text
    start, end = rng.choice(words)
    word = text[start:end]
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    elif kind == 1:
        word = word[:i] + word[i + 1 :]
    else:
        word = word[:i] + word[i] + word[i:]
    return text[:start] + word + text[end:]


def _style(rng: random.Random, text: str) -> str:
    """Abbreviate, change case and add typos outside protected tokens."""
    abbreviate = rng.random() < 0.6
    case = rng.choices(("upper", "lower", "keep"), (0.35, 0.25, 0.40))[0]
    typos = rng.random() < 0.12
    out = []
    for piece in _PROTECT.split(text):
        if piece.startswith("\x01"):
            out.append(piece[1:-1])
            continue
        if abbreviate:
            for pattern, short in _ABBR:
                if rng.random() < 0.7:
                    piece = pattern.sub(short, piece)
        if typos:
            piece = _typo(rng, piece)
            typos = False
        piece = piece.upper() if case == "upper" else piece.lower() if case == "lower" else piece
        out.append(piece)
    return "".join(out)


def _join(rng: random.Random, sentences: list[str]) -> str:
    sep = rng.choice((". ", ". ", ", ", " - ", "; ", ". "))
    text = sep.join(s.strip() for s in sentences if s.strip())
    if rng.random() < 0.15:
        text = text[0].upper() + text[1:]
    return text + rng.choice(("", "", ".", ".", "...", " "))


def _words(sentences: list[str]) -> int:
    return sum(1 for w in " ".join(sentences).split() if any(ch.isalnum() for ch in w))


def service_note(rng: random.Random, kind: str, ctx: NoteContext) -> tuple[str, list[str]]:
    """A technician's note of the given record type (5-60 words) and the part numbers used."""
    core, parts = _BUILDERS[kind](rng, ctx)
    story = _long_story(rng, ctx) if rng.random() < 0.12 else []
    extras: list[str] = []
    if rng.random() < 0.35:
        extras.append(rng.choice(FOLLOW_UPS))
    if kind != "inspection" and rng.random() < 0.12:
        extras.append(_measurement(rng, ctx))
    if rng.random() < 0.1:
        trade_in = ctx.old_machine and ctx.successor and rng.random() < 0.5
        extras.append(f"customer asked about trade-in for {ctx.successor}" if trade_in else rng.choice(REMARKS))
    if rng.random() < 0.08:
        extras.append(", ".join(rng.sample(FOLLOW_UPS, 2)))
    while _words(core + story + extras) < 6:
        extras.append(rng.choice(FOLLOW_UPS))
    while _words(core + story + extras) > 58:
        (extras or story).pop()
    sentences = core[:1] + story + core[1:] + extras
    return _style(rng, _join(rng, sentences)).strip(), sorted(set(parts))


def scrapped_note(rng: random.Random) -> str:
    """A note for a machine that no longer exists in the ERP."""
    return rng.choice((
        "machine scrapped after fire damage, removed from site",
        "DISMANTLED MACHINE FOR SCRAP, CONTROL + DRIVES RETURNED TO WAREHOUSE",
        "final inspection before scrapping, customer replaced with new unit",
    ))


# Territory: (code, language, weight, account manager, phone prefix, e-mail top-level domain, cities)
TERRITORIES: tuple[tuple[str, str, float, str, str, str, tuple[str, ...]], ...] = (
    ("DE-North", "de", 0.14, "Jens Petersen", "+49", "de",
     _split("Hamburg, Bremen, Hannover, Kiel, Lübeck, Osnabrück, Braunschweig, Rostock")),
    ("DE-South", "de", 0.20, "Sabine Huber", "+49", "de",
     _split("München, Stuttgart, Ulm, Augsburg, Nürnberg, Regensburg, Reutlingen, Heilbronn")),
    ("DE-West", "de", 0.14, "Markus Schröder", "+49", "de",
     _split("Köln, Dortmund, Düsseldorf, Essen, Siegen, Bielefeld, Wuppertal, Aachen")),
    ("AT", "at", 0.09, "Katharina Gruber", "+43", "at",
     _split("Wien, Linz, Graz, Salzburg, Wels, Steyr")),
    ("CH", "ch", 0.08, "Reto Baumann", "+41", "ch",
     _split("Zürich, Basel, Bern, Winterthur, St. Gallen, Luzern")),
    ("FR", "fr", 0.10, "Élodie Martin", "+33", "fr",
     _split("Lyon, Grenoble, Strasbourg, Toulouse, Nantes, Besançon, Saint-Étienne")),
    ("IT", "it", 0.10, "Luca Bianchi", "+39", "it",
     _split("Milano, Brescia, Bergamo, Torino, Bologna, Vicenza, Padova")),
    ("PL", "pl", 0.07, "Tomasz Kowalski", "+48", "pl",
     _split("Poznań, Wrocław, Łódź, Katowice, Kraków, Gdańsk")),
    ("NL", "nl", 0.05, "Sanne de Vries", "+31", "nl",
     _split("Eindhoven, Rotterdam, Utrecht, Tilburg, Enschede, Venlo")),
    ("CZ", "cz", 0.03, "Petr Novák", "+420", "cz",
     _split("Brno, Plzeň, Ostrava, Praha, Zlín")),
)
_DE_SURNAMES = _split(
    "Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, Schäfer, Koch, Bauer, "
    "Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, Braun, Krüger, Hartmann, Lange, Schmitt, Werner, "
    "Krause, Maier, Lehmann, Köhler, Kaiser, Fuchs, Jäger, Vogel, Friedrich, Günther, Roth, Haas, Keller, Brandt, "
    "Böhm, Winkler, Albrecht, Pfeiffer, Wörner, Dürr, Weiß, Vöhringer, Heß, Sauter"
)
SURNAMES: dict[str, tuple[str, ...]] = {
    "de": _DE_SURNAMES,
    "at": _DE_SURNAMES[:25] + _split("Gruber, Pichler, Steiner, Moser, Mayr, Hofer, Leitner, Eder, Wallner, Aigner"),
    "ch": _DE_SURNAMES[:20] + _split("Meier, Brunner, Frei, Gerber, Baumgartner, Kälin, Lüthi, Zürcher, Suter, Bühler"),
    "fr": _split(
        "Dubois, Lefèvre, Moreau, Laurent, Girard, Roux, Fournier, Mercier, Bonnet, Lambert, Faure, Rousseau, "
        "Chevalier, Gauthier, Perrin, Morel, Clément, Renaud, Thévenin, Bézier, Garnier, Caron"
    ),
    "it": _split(
        "Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, Bruno, Gallo, Conti, De "
        "Luca, Costa, Giordano, Mancini, Lombardi, Moretti, Barbieri, Fontana, Zanetti"
    ),
    "pl": _split(
        "Nowak, Kowalski, Wiśniewski, Wójcik, Kowalczyk, Kamiński, Lewandowski, Zieliński, Szymański, Woźniak, "
        "Dąbrowski, Kozłowski, Jankowski, Mazur, Krawczyk, Piotrowski, Grabowski, Król"
    ),
    "nl": _split(
        "de Vries, van Dijk, Bakker, Janssen, Visser, Smit, Meijer, de Boer, Mulder, de Groot, Bos, Vos, Hendriks, "
        "van Leeuwen, Dekker, Brouwer, de Wit, Dijkstra, van den Berg, Kuipers"
    ),
    "cz": _split(
        "Novák, Svoboda, Novotný, Dvořák, Černý, Procházka, Kučera, Veselý, Horák, Němec, Marek, Pokorný, Růžička, "
        "Beneš, Fiala, Sedláček, Doležal, Zeman"
    ),
}
_DE_FIRST = _split(
    "Thomas, Michael, Andreas, Stefan, Christian, Martin, Anna, Julia, Claudia, Sandra, Jürgen, Jörg, Sören, Björn, "
    "Katrin, Petra, Uwe, Frank, Tobias, Lena"
)
FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "de": _DE_FIRST,
    "at": _DE_FIRST,
    "ch": _DE_FIRST + ("Reto", "Urs", "Beat", "Regula"),
    "fr": _split("Jean, Pierre, Nicolas, Julien, Sébastien, Camille, Émilie, Céline, Hélène, François, Jérôme"),
    "it": _split("Marco, Giuseppe, Alessandro, Francesca, Chiara, Luca, Paolo, Giulia, Matteo, Elena, Stefano"),
    "pl": _split("Piotr, Krzysztof, Andrzej, Tomasz, Paweł, Agnieszka, Małgorzata, Katarzyna, Łukasz, Michał"),
    "nl": _split("Jan, Pieter, Daan, Sanne, Lotte, Bram, Ruud, Femke, Joost, Maarten, Anouk"),
    "cz": _split("Jan, Petr, Jiří, Tomáš, Lucie, Jana, Pavel, Martin, Kateřina, Zdeněk"),
}
_DE_TRADES = _split(
    "Blechtechnik, Metallbau, Maschinenbau, Stahlbau, Präzisionsteile, Laserzentrum, Blechbearbeitung, "
    "Feinwerktechnik, Gehäusebau, Schaltschrankbau, Anlagenbau, Metallverarbeitung, Fahrzeugteile, Edelstahltechnik"
)
TRADES: dict[str, tuple[str, ...]] = {
    "de": _DE_TRADES,
    "at": _DE_TRADES,
    "ch": _DE_TRADES,
    "fr": _split(
        "Tôlerie, Métallerie, Découpe Laser, Mécanique de Précision, Chaudronnerie, Constructions Métalliques"
    ),
    "it": _split("Lamiere, Carpenteria Metallica, Meccanica, Lavorazioni Lamiera, Taglio Laser, Metalli"),
    "pl": _split("Obróbka Metali, Metal-Tech, Konstrukcje Stalowe, Laser-Stal, Zakład Mechaniczny"),
    "nl": _split("Metaalbewerking, Plaatwerk, Staalbouw, Machinebouw, Lasertechniek"),
    "cz": _split("Strojírna, Kovovýroba, Kovo, Laser Technik"),
}
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "de": ("GmbH", "GmbH", "GmbH", "GmbH & Co. KG", "AG", "KG", "e.K."), "at": ("GmbH", "GesmbH", "AG"),
    "ch": ("AG", "AG", "GmbH"), "fr": ("SAS", "SARL", "SA"), "it": ("S.r.l.", "S.r.l.", "S.p.A."),
    "pl": ("Sp. z o.o.", "Sp. z o.o.", "S.A."), "nl": ("B.V.",), "cz": ("s.r.o.", "s.r.o.", "a.s."),
}
TRADE_FIRST = frozenset(("fr", "it", "cz"))

TECHNICIANS: dict[str, tuple[str, ...]] = {
    "DE-North": ("Jan Hinrichs", "Ole Jensen"), "DE-South": ("Thomas Brandl", "Florian Maier"),
    "DE-West": ("Dirk Kowalczyk", "Sven Becker"), "AT": ("Lukas Pichler",), "CH": ("Beat Zürcher",),
    "FR": ("Mathieu Girard", "Olivier Roux"), "IT": ("Davide Conti",), "PL": ("Paweł Nowicki",),
    "NL": ("Ruud Bakker",), "CZ": ("Ondřej Dvořák",),
}
SPECIALIST = "Kai Wendler"

# German umlauts are spelled out in addresses; NFKD does not decompose ł.
_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ł": "l", "Ł": "L"}
)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII form of a name for e-mail addresses and domains."""
    plain = unicodedata.normalize("NFKD", text.translate(_TRANSLIT)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def _company(rng: random.Random, lang: str, city: str) -> tuple[str, str]:
    """(name without legal form, legal form) built from the territory's word lists."""
    surname = rng.choice(SURNAMES[lang])
    trade = rng.choice(TRADES[lang])
    pattern = rng.random()
    if lang in TRADE_FIRST:
        stem = f"{trade} {surname}" if pattern < 0.7 else f"{surname} {trade}"
    elif pattern < 0.6:
        stem = f"{surname} {trade}"
    elif pattern < 0.8:
        stem = f"{surname} & {rng.choice(SURNAMES[lang])}"
    else:
        stem = f"{trade} {city}" if lang != "pl" else f"{trade} {surname}"
    return stem, rng.choice(LEGAL_FORMS[lang])


@dataclass
class Customers:
    """Generated customers: ids, CSV rows, territory index and plant cities (first = head office)."""

    ids: list[str]
    rows: list[list[str]]
    territory: list[int]
    cities: list[list[str]]


def make_customers(rng: random.Random, count: int) -> Customers:
    """Companies with a territory, account manager, contact person and 1-3 plant cities; names are unique."""
    weights = [t[2] for t in TERRITORIES]
    out = Customers([], [], [], [])
    taken: set[str] = set()
    for i in range(count):
        t = rng.choices(range(len(TERRITORIES)), weights)[0]
        code, lang, _, manager, phone_cc, tld, towns = TERRITORIES[t]
        city = rng.choice(towns)
        for attempt in range(12):
            stem, legal = _company(rng, lang, city)
            name = f"{stem} {city} {legal}" if attempt >= 6 and city not in stem else f"{stem} {legal}"
            if name not in taken:
                break
        else:
            name = f"{stem} {city} {i} {legal}"
        taken.add(name)
        first, last = rng.choice(FIRST_NAMES[lang]), rng.choice(SURNAMES[lang])
        domain = ascii_slug(" ".join(stem.replace("&", " ").split()[:2]))
        local = rng.choice((f"{ascii_slug(first)}.{ascii_slug(last)}", f"{ascii_slug(first)[0]}.{ascii_slug(last)}",
                            ascii_slug(last), "info", "service"))
        phone = f"{phone_cc} {rng.randint(2, 99)}{rng.randint(0, 99):02d} {rng.randint(10000, 9999999)}"
        out.ids.append(f"CU-{10001 + i}")
        out.rows.append([out.ids[-1], name, code, manager, f"{first} {last}", f"{local}@{domain}.{tld}", phone])
        out.territory.append(t)
        out.cities.append([city] + rng.sample([c for c in towns if c != city], k=rng.choice((0, 0, 1, 2))))
    return out


_LASERS, _BRAKES = ["TL-2510", "TL-3030", "TL-4020", "TC-1200"], ["PB-800", "PB-1100", "PB-2300"]
_PUNCH_BEND = ["PM-500", "PM-750", "BC-200", "TC-1200"]
_EOL = [m.name for m in MODELS if m.end_of_life is not None]
# (offer_id, name, price EUR, models ([] = all), triggers, duration)
OFFERS: tuple[tuple[str, str, float, list[str], list[str], str], ...] = (
    ("OF-101", "Preventive maintenance package laser", 1290.0, _LASERS, ["maintenance_due"], "1 day"),
    ("OF-102", "Preventive maintenance package press brake", 980.0, _BRAKES, ["maintenance_due"], "1 day"),
    ("OF-103", "Preventive maintenance package punching / bending", 1150.0, _PUNCH_BEND, ["maintenance_due"], "1 day"),
    ("OF-104", "Spindle and axis vibration check", 490.0, [], ["wear"], "4 h"),
    ("OF-105", "Wear-parts kit laser (nozzles, protective glass, lens)", 690.0, _LASERS,
     ["parts_reminder", "wear", "maintenance_due"], "2 h"),
    ("OF-106", "Wear-parts kit press brake (seals, filters, gauge fingers)", 840.0, _BRAKES,
     ["parts_reminder", "wear", "maintenance_due"], "3 h"),
    ("OF-107", "Safety inspection (light curtains, e-stops, doors)", 390.0, [], ["parts_reminder"], "3 h"),
    ("OF-108", "Maintenance contract renewal Standard (1 year)", 4800.0, [], ["contract_renewal"], "12 months"),
    ("OF-109", "Maintenance contract renewal Premium (1 year)", 9600.0, [], ["contract_renewal"], "12 months"),
    ("OF-110", "SLA upgrade: 48 h response, spare-parts priority", 3900.0, [], ["warranty_sla", "contract_renewal"],
     "12 months"),
    ("OF-111", "Extended warranty 1 year", 2400.0, [], ["warranty_sla"], "12 months"),
    ("OF-112", "Hydraulic overhaul (pump, valves, seals)", 6500.0, _BRAKES + ["PM-500", "PM-750"],
     ["error_pattern", "wear"], "3 days"),
    ("OF-113", "Emergency service call and diagnosis", 650.0, [], ["error_pattern", "precursor"], "1 day"),
    ("OF-114", "Retrofit package: CNC control and drives", 38000.0, [], ["modernization", "retrofit_age"], "2 weeks"),
    ("OF-115", "Laser source retrofit", 54000.0, _LASERS, ["modernization", "retrofit_age"], "1 week"),
    ("OF-116", "End-of-life spare-parts package", 7500.0, _EOL, ["end_of_life"], "5 years"),
    ("OF-117", "Trade-in assessment for successor model", 350.0, [], ["end_of_life", "retrofit_age"], "2 h"),
)


def _columns(fields: list[str], sources: list[str] | None = None) -> str:
    """The `columns:` block of one file, canonical field -> source column."""
    lines = ["    columns:"]
    for name, source in zip(fields, sources or fields):
        text = f'"{source}"' if any(ch in source for ch in " ({:%#") else source
        lines.append(f"      {name}: {text}")
    return "\n".join(lines)


def mapping_text(as_of: date, machines: int, seed: int) -> str:
    """mapping.yaml as readable, byte-stable text."""
    iso, us = '"%Y-%m-%d"', '"%m/%d/%Y %I:%M:%S %p"'
    return f"""# SDI demo installed base: {machines:,} machines, seed {seed}, written by sdi/demo/generator.py.
# Each file imitates a different source system; this mapping tells the importer how to read each one.
as_of: {as_of.isoformat()}
files:
  # Product management's Excel list of models (real date cells, yes/no flags).
  - path: models.xlsx
    entity: model
    sheet: Models
{_columns(["model", "maintenance_interval_hours", "end_of_life", "successor", "parts_discontinued"],
          ["Model", "Maintenance interval (h)", "End of life", "Successor", "Parts discontinued"])}

  # CRM export.
  - path: customers.csv
    entity: customer
{_columns(["customer_id", "name", "territory", "account_manager", "contact_name", "contact_email", "contact_phone"])}

  # ERP export: semicolons, UTF-8 with BOM, German dates, customer numbers without the CRM prefix.
  - path: machines.csv
    entity: machine
    delimiter: ";"
    date_format: "%d.%m.%Y"
{_columns(["serial", "model", "customer_id", "site", "install_date", "year_of_manufacture", "lifecycle_status",
           "operating_hours"],
          ["SerialNo", "Model", "CU-{CustomerNo}", "Site", "InstallDate", "BuildYear", "Status", "OperatingHours"])}

  - path: contracts.csv
    entity: contract
    date_format: {iso}
{_columns(["contract_id", "serial", "type", "start_date", "end_date", "value", "currency", "status"])}

  # IoT platform: one row per machine and day, one column per metric.
  - path: telemetry.csv
    entity: telemetry
    date_format: {iso}
{_columns(["serial", "timestamp"], ["serial", "date"])}
    metrics: [operating_hours, vibration, temperature]

  # Machine controller log, US-style timestamps.
  - path: events.csv
    entity: event
    date_format: {us}
{_columns(["event_id", "serial", "timestamp", "kind", "code", "severity", "description"])}

  # Field service management: technicians' free-text notes.
  - path: service_records.csv
    entity: service_record
    date_format: {iso}
{_columns(["record_id", "serial", "date", "type", "technician", "text", "parts", "cost"])}

  - path: parts_orders.csv
    entity: parts_order
    date_format: {iso}
{_columns(["order_id", "serial", "customer_id", "date", "part_number", "quantity", "value"])}

  # Service catalogue: fixed-price offers and the triggers they answer.
  - path: service_offers.json
    entity: service_offer
{_columns(["offer_id", "name", "price", "currency", "models", "triggers", "duration"])}
"""
