"""Structure rules of the claim check: numbers keep their frame, faults their part, fitted parts and modality hold."""

from __future__ import annotations

from sdi.drafting.checker import check_sentence
from sdi.drafting.claims import number_frames, state_attachments

PARTS = {"T1": "The last spare-parts order was 59.4 months ago, more than 24 months"}
HOSE = {"H1": "2010-06-05 repair on excavator D: Broken grease hose on bucket pin"}
LINE = {"H1": "2007-03-19 repair on excavator E: REPLACE U/S GREASE LINE ON BUCKET."}
PIN = {"H1": "2009-08-02 repair on excavator D: Retainer broken off upper H-link pin"}
STAIRS = {"H1": "2006-10-04 repair on excavator E: ACCESS STAIRS & HANDRAILS DAMAGED"}
RESEAL = {"H1": "2007-02-08 repair on excavator D: Reseal lodgic block front HP filter"}
SERVICE = {"H1": "2026-08-15 maintenance on PM750-000728: 1000h service; sharpened punches; job closed."}
PM = {"H1": "2024-06-03 maintenance on PB1100-000702: pm service. topped up hyd oil, calibrated y1/y2, "
            "chk cyl seals, chk back gauge. system press. 287 bar"}
ADVISED = {"H1": "2023-06-25 inspection on TC1200-000852: annual safety insp; spoke w/ shift supervisor and advised "
                 "to call the hotline before resetting alarms; everything within spec"}
WAX = {"H1": "2021-10-09 maintenance on TL3030-000214: 500h service - lubricated axes, cleaned dust extraction - "
             "checked with operator - customer wants the machine checked before audit"}


def ok(sentence: str, sources: dict[str, str]) -> bool:
    return check_sentence(sentence, sources).ok


def test_a_number_keeps_its_unit_and_its_frame() -> None:
    assert ("59.4", "months", "ago") in number_frames(PARTS["T1"])
    assert ok("Your last spare-parts order was 59.4 months ago, more than 24 months [T1].", PARTS)
    assert ok("It has been 59.4 months since your last spare-parts order [T1].", PARTS)
    garbled = "The customer's machine has been ordered for 59.4 months, more than 24 months ago [T1]."
    assert "duration" in check_sentence(garbled, PARTS).reason
    assert not ok("Your last spare-parts order was more than 24 months ago [T1].", PARTS)
    assert not ok("The last spare-parts order was 59.4 days ago [T1].", PARTS)
    assert not ok("PM750-000728 has been maintained for 1000 hours, with sharpened punches [H1].", SERVICE)


def test_a_fault_stays_on_its_part() -> None:
    assert state_attachments("a broken grease hose on the bucket pin") == [("broken", frozenset({"hos"}))]
    assert ok("The excavator D has a broken grease hose on the bucket pin [H1].", HOSE)
    assert not ok("The technician found a broken upper H-link pin on excavator D [H1].", PIN)
    assert ok("A retainer had broken off the upper H-link pin [H1].", PIN)
    assert "cause" in check_sentence("The excavator E has been damaged by the access stairs [H1].", STAIRS).reason


def test_the_replaced_part_is_the_part_the_source_replaces() -> None:
    assert ok("The grease line on the bucket was replaced [H1].", LINE)
    assert not ok("The excavator E had its bucket replaced [H1].", LINE)
    assert not ok("The excavator E bucket was replaced with a new grease line [H1].", LINE)


def test_repaired_with_names_a_fitted_part() -> None:
    assert ok("The excavator E has been repaired with a new grease line [H1].", LINE)
    assert not ok("The excavator D has been repaired on its lodgic block front with a HP filter [H1].", RESEAL)
    assert not ok("The excavator E has been repaired with a U/S grease line [H1].", LINE)
    assert not ok("The excavator D has a broken grease hose and a new grease hose [H1].", HOSE)


def test_done_is_not_to_be_done_and_only_events_are_performed() -> None:
    assert not ok("The excavator E has a grease line on the bucket that needs replacing [H1].", LINE)
    assert ok("The technician topped up the hyd oil and calibrated the y1/y2 [H1].", PM)
    assert not ok("The hyd oil was topped up. The system press was also performed [H1].", PM)


def test_roles_follow_the_grammar() -> None:
    assert ok("The technician advised the shift supervisor to call the hotline before resetting alarms [H1].", ADVISED)
    assert not ok("The shift supervisor advised to call the hotline before resetting alarms [H1].", ADVISED)
    assert ok("The customer wants the machine checked before the audit [H1].", WAX)
    assert not ok("The technician informed the customer to clean the axes [H1].", WAX)


def test_pasted_headers_and_ok_findings() -> None:
    assert not ok("TL3030-000214: 500h service, lubricated axes [H1].", WAX)
    assert not ok("The 2000 h maintenance found the machine in good condition [H1].", PM)
    assert ok("The 2024-06-03 maintenance on PB1100-000702 topped up the hyd oil [H1].", PM)


KIT = {"T2": "The service note of 2026-09-12 recommends a spare or wear parts kit: \u201cwear parts kit on stock at "
             "cust\u201d (rule note_lead v1, lead from a service note, machine PB1100-000842)"}


def test_a_machine_is_neither_advised_nor_the_offer() -> None:
    """Seen in `sdi eval drafts` talking points: the note recommends work on the machine, not to it."""
    assert not ok("The customer's machine is recommended to wear parts kit on stock at cust [T2].", KIT)
    assert not ok("The customer's machine is a spare or wear parts kit [T2].", KIT)
    assert not ok("PB1100-000842 is advised to keep a wear parts kit in stock [T2].", KIT)
    assert ok("A wear parts kit is recommended for your machine [T2].", KIT)


TURBO = {"H1": "2005-09-18 replacement on excavator C: CHANGEOUT ~ RIGHT HAND TURBOCHARGER"}
SLEW = {"H1": "2006-05-03 repair on excavator D: SHD24 Replace R/H slew motor"}
RADIO = {"H1": "2003-11-11 repair on excavator B: Repairs to commercial radio, shovel 16"}
LUBE = {"H1": "2011-07-29 repair on excavator E: Repair damage to bucket lube system"}
SAFETY = {"H1": "2026-10-26 inspection on TL3030-000478: ANNUAL SAFETY INSPECTION; VIB 5.7 mm/s AT CUTTING HEAD DRIVE"}


def test_the_machine_is_not_the_part_the_visit_or_the_offer() -> None:
    assert not ok("The excavator C was replaced on September 18, 2005, with a right-hand turbocharger [H1].", TURBO)
    assert ok("The right-hand turbocharger of excavator C was replaced [H1].", TURBO)
    assert ok("The right-hand slew motor on SHD24 was replaced [H1].", SLEW)  # the motor, not SHD24, is the subject
    assert not ok("TL3030-000478 is an annual safety inspection [H1].", SAFETY)
    assert ok("TL3030-000478 had an annual safety inspection [H1].", SAFETY)


def test_a_work_order_heading_is_not_a_goal() -> None:
    assert not ok("The excavator B was repaired to commercial radio and shovel 16 [H1].", RADIO)
    assert ok("The commercial radio of excavator B was repaired [H1].", RADIO)
    assert ok("The excavator E has been repaired to fix the bucket lube system [H1].", LUBE)  # a purpose


BELT = {"H1": "2020-03-14 repair on TL4020-000560: Y-AXIS BELT NOISY; REPL Y-AXIS BELT; TEST RUN OK"}
HOSE_RH = {"H1": "2005-11-11 repair on excavator C: REPLACE TOP RADIATOR HOSE- RH SIDE"}


def test_a_negation_may_not_invert_what_the_source_states() -> None:
    """'TEST RUN OK' is a negative finding, but not about the noise the source reports."""
    assert not ok("The visit found that the Y-axis belt was not noisy [H1].", BELT)
    assert ok("The Y-axis belt was noisy and was replaced; the test run was ok [H1].", BELT)


def test_the_part_named_keeps_the_sources_head_noun() -> None:
    assert not ok("The top radiator on the right-hand side of excavator C was replaced [H1].", HOSE_RH)
    assert ok("The top radiator hose on the right-hand side of excavator C was replaced [H1].", HOSE_RH)


RETROFIT = {"H1": "2023-11-23 maintenance on PB1100-000842: PM service. greased ram guides. cust asks if retrofit of "
                  "control is possible. quote to follow, test run ok"}


def test_a_shared_subject_carries_over_and() -> None:
    assert not ok("The technician greased the ram guides on PB1100-000842 and asked if a retrofit of control is "
                  "possible [H1].", RETROFIT)
    assert ok("The technician greased the ram guides, and the customer asked if a retrofit of control is possible "
              "[H1].", RETROFIT)


BOLTS = {"H1": "2008-11-19 repair on excavator E: 3 TRACK PIN RETAINING BOLTS MISSING"}
ENCODER = {"H1": "2026-07-03 repair on TL4020-000670: machine stops with E-920. found LH motor encoder intermittent."}
DIE = {"H1": "2019-09-19 replacement on PM500-000738: ftited new die. PN 6602-240. planned replacement."}


def test_counts_headers_and_deeds_hold() -> None:
    assert not ok("The excavator E has a track pin retaining bolt missing [H1].", BOLTS)
    assert ok("3 track pin retaining bolts were missing on excavator E [H1].", BOLTS)
    assert not ok("The technician found a faulty motor encoder 2026-07-03 repair on TL4020-000670 [H1].", ENCODER)
    assert ok("The 2026-07-03 repair on TL4020-000670 found the left-hand motor encoder intermittent [H1].", ENCODER)
    assert not ok("PM500-000738 is replacing a die [H1].", DIE)
    assert ok("A new die, PN 6602-240, was fitted on PM500-000738 as a planned replacement [H1].", DIE)


CALIB = {"H1": "2018-05-11 maintenance on PB1100-000815: 2000 h maintenance. changed hydraulic oil filter, calirbated Y1/Y2"}
FINGER = {"H1": "2025-08-08 repair on PB800-000764: fund l/h back gauge finger bent; fitted new l/h back gauge finger "
                "part 4455-310"}
SPEC = {"H1": "2024-09-09 inspection on PB800-000771: insp after cust call - spoke w/ maint manager and advised not to "
              "bridge the light curtain - everything within spec"}
CUPS = {"H1": "2024-12-14 maintenance on BC200-000452: SCHEDULED SERVICE; REPLACED VACUUM CUPS, CHECKED ROBOT CABLE PACK"}


def test_fair_readings_of_terse_notes_pass() -> None:
    """Seen on the fresh labelled batch: a typo in the note, a phrase the note itself repeats."""
    assert ok("The hydraulic oil filter was changed and Y1/Y2 were calibrated [H1].", CALIB)
    assert ok("The technician found the l/h back gauge finger bent and fitted a new l/h back gauge finger part "
              "4455-310 [H1].", FINGER)


def test_an_ok_finding_and_a_visit_stay_what_they_are() -> None:
    assert not ok("The technician found that PB800-000771 was not within the specified specifications [H1].", SPEC)
    assert ok("Everything was within spec, and the maintenance manager was advised not to bridge the light curtain "
              "[H1].", SPEC)
    assert not ok("The service was replaced with vacuum cups [H1].", CUPS)
    assert ok("The vacuum cups were replaced and the robot cable pack was checked [H1].", CUPS)


VALVE = {"H1": "2025-09-12 repair on TL2510-000333: gas valve sticking - repl gas valve p/n 1277-050 - test run ok"}
E640 = {"H1": "2025-11-28 repair on PM500-000226: MACHINE STOPS WITH E-640; HYD ACCUMULATOR LEAKING; C/O ACCUMULATOR"}
EXHAUST = {"H1": "2010-04-07 repair on excavator C: L/H EXHAUST PIPING LEAKING TO EXHAUST"}


def test_a_cause_must_be_stated() -> None:
    assert not ok("The service visit found that the gas valve sticking was due to a malfunction [H1].", VALVE)
    assert not ok("The machine stopped with E-640, causing a hydraulic accumulator leak [H1].", E640)
    assert ok("The machine stopped with E-640 and the hydraulic accumulator was leaking [H1].", E640)
    assert ok("The gas valve was replaced due to sticking [H1].", VALVE)  # the reason for a deed
    assert ok("The left exhaust piping is leaking, which is causing it to leak to the exhaust [H1].", EXHAUST)


def test_only_a_person_recommends_and_a_visit_has_no_fault() -> None:
    lens = {"H1": "2026-09-30 inspection on TL2510-000335: thermal lensing on focus lens, recommend c/o. all other "
                  "axes ok"}
    assert not ok("The focus lens replacement was recommended by all other axes [H1].", lens)
    assert ok("The technician recommended changing out the focus lens [H1].", lens)
    pump = {"H1": "2021-09-19 repair on PB800-000352: NOISY MAIN PUMP; REBUILT MAIN PUMP; TEST RUN OK"}
    assert not ok("The repair on PB800-000352 was found to be noisy [H1].", pump)
    assert ok("The main pump was noisy and was rebuilt [H1].", pump)


def test_every_part_said_to_fail_must_fail_in_the_source() -> None:
    curtain = {"H1": "2026-07-16 inspection on PB1100-000647: SAFETY CHK LIGHT CURTAINS AND E-STOPS, R/H LIGHT "
                     "CURTAIN TRANSMITTER INTERMITTENT"}
    assert not ok("The light curtains and E-stops were not working [H1].", curtain)
    assert ok("The light curtains and E-stops were checked [H1].", curtain)


def test_a_fault_with_no_part_of_its_own_belongs_to_the_sentence_before() -> None:
    drive = {"H1": "2026-10-22 inspection on PM500-001005: VIBRATION 7.7 mm/s ON MAIN DRIVE. TOO HIGH - RECOMMEND "
                   "REPL OF SPINDLE BEARING."}
    assert not ok("The spindle bearing was too high [H1].", drive)
    assert ok("The vibration on the main drive was too high [H1].", drive)


def test_a_denial_keeps_its_part() -> None:
    curtain = {"H1": "2021-02-28 replacement on PB800-000344: replace light curtain. checked with operator, no leaks "
                     "found"}
    assert not ok("The light curtain was not leaking and was replaced [H1].", curtain)
    assert ok("The light curtain was replaced and no leaks were found [H1].", curtain)
    hyd = {"H1": "2020-01-01 maintenance on PB800-000111: hyd system checked, no leaks"}
    assert ok("The hydraulic system showed no leaks [H1].", hyd)


def test_garbles_of_compounds_repeats_and_fitted_parts() -> None:
    teeth = {"H1": "2004-11-17 repair on excavator C: CHANGE BUCKET TEETH."}
    assert not ok("The excavator C has been repaired with a new bucket of teeth [H1].", teeth)
    assert ok("The bucket teeth of excavator C were changed [H1].", teeth)
    gas = {"H1": "2008-05-15 repair on excavator D: Scope A/C gas leak rh eng a/c system"}
    assert not ok("Excavator D had a gas leak in the gas leak right a/c system [H1].", gas)
    relay = {"H1": "2007-06-17 repair on excavator E: REPLACE FAULTY HORN RELAY"}
    assert not ok("The excavator E was repaired with a faulty horn relay [H1].", relay)
    strainer = {"H1": "2004-03-31 repair on excavator D: Replace inline grease strainer filter"}
    assert not ok("The service visit found a replacement inline grease strainer filter [H1].", strainer)
    assert ok("The inline grease strainer filter was replaced [H1].", strainer)


def test_a_letter_left_out_and_out_of_service() -> None:
    die = {"H1": "2024-04-23 repair on PM750-000347: craced die. swapped die."}
    assert ok("The service visit found a cracked die, which was swapped [H1].", die)
    accumulator = {"H1": "2019-01-16 replacement on PM750-000328: change out hydraulic accumulator - planned "
                         "replacement - test run ok"}
    assert not ok("The hydraulic accumulator was out of service [H1].", accumulator)


def test_who_asked_and_which_way_the_cause_runs() -> None:
    kit = {"H1": "2024-10-18 inspection on BC200-000147: AREA SCANNER MISALIGNED, CUSTOMER ASKED ABOUT PRICE OF WEAR "
                 "PARTS KIT"}
    assert not ok("The scanner was misaligned, and the customer was asked about the price of the wear parts kit [H1].",
                  kit)
    assert ok("The customer asked about the price of the wear parts kit [H1].", kit)
    lens = {"H1": "2025-12-28 repair on TL4020-000797: laser power drop (E-140) - cause: contaminated focus lens - "
                  "repl focus lens p/n 1210-020"}
    assert not ok("The laser power drop (E-140) caused a contaminated focus lens [H1].", lens)
    assert ok("A contaminated focus lens caused the laser power drop (E-140) [H1].", lens)


def test_a_part_name_the_source_never_makes() -> None:
    filt = {"H1": "2010-05-19 repair on excavator E: REPAIR OIL LEAKS AT P1 / SERVO FILTER"}
    assert not ok("The excavator E was found to have a leak in its oil filter [H1].", filt)
    assert ok("The excavator E had oil leaks at the servo filter [H1].", filt)
    fix = {"H1": "2025-12-24 repair on PB1100-000448: found upper tool cracked. repl upper tool. temporary fix only"}
    assert not ok("The service visit found a temporary fix only [H1].", fix)


def test_a_deed_said_not_done_needs_a_source_that_leaves_one_undone() -> None:
    plate = {"H1": "2026-06-28 repair on PM500-000500: WORN STRIPPER PLATE - CHANGED STRIPPER PLATE - CHECKED WITH "
                   "OPERATOR"}
    assert not ok("The PM500-000500 repair was not completed [H1].", plate)
    assert not ok("The stripper plate was changed, but the operator check was not properly done [H1].", plate)
    seals = {"H1": "2026-10-08 maintenance on PB2300-000418: CHECKED CYLINDER SEALS, TESTED E-STOPS"}
    assert not ok("The cylinder seals were checked, but the E-stops weren't [H1].", seals)
    assert ok("The cylinder seals were checked and the E-stops tested [H1].", seals)
    undone = {"H1": "2026-03-02 repair on PB800-000177: chiller pump noisy, pump not replaced, no parts on site"}
    assert ok("The chiller pump was not replaced [H1].", undone)


def test_the_cause_words_both_sides_share_do_not_hide_a_turned_cause() -> None:
    signal = {"H1": "2026-05-14 repair on TL3030-000171: E-920 servo encoder signal lost, cause: faulty RH motor "
                    "encoder, changed out RH motor encoder"}
    assert not ok("The E-920 servo encoder signal was lost, causing a faulty RH motor encoder [H1].", signal)
    assert ok("A faulty RH motor encoder caused the E-920 servo encoder signal to be lost [H1].", signal)


def test_a_replaced_part_is_not_cut_short() -> None:
    gauges = {"H1": "2007-09-10 repair on excavator C: REPLACE L & R HEADER TANK MURPHY GAUGES"}
    assert not ok("The excavator C was repaired with a replacement of L & R header tanks [H1].", gauges)
    assert ok("The L & R header tank Murphy gauges of excavator C were replaced [H1].", gauges)
    screw = {"H1": "2017-12-07 repair on PB1100-000838: noisy back gauge ball screw, repl back gauge ball srew"}
    assert ok("The noisy back gauge ball screw was replaced [H1].", screw)


def test_who_a_passive_deed_names_and_how_often_it_is_done() -> None:
    visual = {"H1": "2025-09-04 inspection on TL2510-000524: visual inspection. ok, no defects. cust considering "
                    "replacement w/ newer model"}
    assert not ok("TL2510-000524 was inspected by a customer [H1].", visual)
    assert ok("TL2510-000524 had a visual inspection [H1].", visual)
    oil = {"H1": "2013-07-26 maintenance on PB1100-000740: CHECKED HYDRAULIC OIL LEVEL, ADVISED OPERATOR TO CLEAN DAILY"}
    assert not ok("The hydraulic oil level was checked daily [H1].", oil)
    assert ok("The hydraulic oil level was checked [H1].", oil)


def test_a_claim_word_twice_a_part_number_as_a_value_and_a_circular_cause() -> None:
    axes = {"H1": "2026-06-12 maintenance on TL3030-000631: cleaned protective glass, changed nozzle set, lubricated axes"}
    assert not ok("The protective glass was cleaned and the lubricated axes were lubricated [H1].", axes)
    assert ok("The protective glass was cleaned, the nozzle set was changed and the axes were lubricated [H1].", axes)
    finger = {"H1": "2026-10-28 repair on PB1100-000768: back gauge position deviation (E-401); cause: l/h back gauge "
                    "finger bent; repl l/h back gauge finger p/n 4455-310"}
    assert not ok("The back gauge position deviation (E-401) was 4455-310 [H1].", finger)
    assert ok("The l/h back gauge finger was replaced with p/n 4455-310 [H1].", finger)
    broken = {"H1": "2025-12-23 repair on PB800-000490: ALARM E-401, CAUSE: BROKEN LEFT HAND BACKGAUGE FINGER, REPL "
                    "LEFT HAND BACKGAUGE FINGER"}
    assert not ok("The left hand backgauge finger was broken, causing a broken left hand backgauge finger [H1].", broken)


ANNUAL = {"H1": "2023-01-17 maintenance on PB800-000366: ANNUAL MAINT, CHECKED CYLINDER SEALS, CHANGED HYDRAULIC OIL "
                "FILTER, MACHINE BACK IN PRODUCTION, ALL OTHER AXES OK"}
NOZZLE = {"H1": "2026-02-08 maintenance on TL2510-000241: scheduled service. changed nozzle set. laser power at 85 % of nominal"}


def test_one_claim_keeps_to_one_item_of_the_note() -> None:
    assert ok("The service visit found that the cylinder seals were checked and the hydraulic oil filter was changed [H1].",
              ANNUAL)
    assert ok("At the annual maintenance the cylinder seals were checked [H1].", ANNUAL)  # the header joins any item
    assert ok("The laser power was at 85% of nominal [H1].", NOZZLE)
    garbled = "The service visit found that the machine back in production was all other axes were OK [H1]."
    assert "separate items" in check_sentence(garbled, ANNUAL).reason
    assert "separate items" in check_sentence("The nozzle set was changed to 85% of nominal [H1].", NOZZLE).reason


def test_advice_joined_to_the_machine_is_given_to_the_machine() -> None:
    punch = {"H1": "2021-03-28 maintenance on PM500-000248: 1000 H MAINT; SHARPENED PUNCHES; ADVISED OPERATOR TO CLEAN DAILY"}
    said = "The service visit found that PM500-000248 had a sharpened punch and was advised to clean daily [H1]."
    assert "not the machine" in check_sentence(said, punch).reason
    assert ok("The service visit found sharpened punches on PM500-000248 [H1].", punch)


def test_a_fault_is_said_of_the_part_whose_item_states_one() -> None:
    visit = {"H1": "2026-09-11 maintenance on PB2300-000147: preventive maintenance as per schedule; also checked upper "
                   "tool, worn, to be replaced next visit; spoke with operator and advised to send a photo of the alarm "
                   "screen next time"}
    assert ok("The service visit found the upper tool worn, to be replaced next visit [H1].", visit)  # 'WORN' joins its part
    assert ok("The service visit found a problem with the upper tool [H1].", visit)
    said = "The service visit found that the PB2300-000147 alarm screen was not functioning properly [H1]."
    assert "does not state" in check_sentence(said, visit).reason


def test_the_machine_is_not_in_the_state_of_its_part_or_its_job() -> None:
    scale = {"H1": "2019-12-25 replacement on PB800-000744: c/o lh y1 sclae, pn 4419-200, old one: lh y1 scale dirty."}
    assert "says the machine was dirty" in check_sentence("The service visit found that PB800-000744 was dirty [H1].",
                                                           scale).reason
    assert ok("The service visit found the L/H Y1 scale dirty [H1].", scale)
    closed = {"H1": "2017-01-25 inspection on TL3030-000464: VISUAL INSP. EVERYHING WITHIN SPEC. JOB CLOSED"}
    assert not ok("The service visit found that TL3030-000464 was closed [H1].", closed)


def test_no_parts_ordered_is_a_claim_of_its_own() -> None:
    visit = {"H1": "2021-11-05 inspection on PB2300-000167: Site visit, inspection, no findings, parts ordered"}
    assert "did not happen" in check_sentence("The service visit found no parts ordered [H1].", visit).reason
    assert ok("The inspection found nothing and parts were ordered [H1].", visit)


def test_a_deed_is_not_who_did_the_work() -> None:
    pump = {"H1": "2008-10-08 repair on excavator D: C/O R/H engine fan pump"}
    assert "a deed named" in check_sentence("The excavator D was repaired by a C/O R/H engine fan pump [H1].", pump).reason


def test_garbles_of_b15() -> None:
    punch = {"H1": "2026-02-26 repair on PM500-000555: E-601 punch tool not released; cause: round punch 30mm blunt; "
                   "fitted new round punch 30mm PN 6602-110"}
    assert not ok("The round punch 30mm was blunt, which was fitted new round punch 30mm PN 6602-110 [H1].", punch)
    assert ok("The round punch 30mm was blunt and was replaced with a new round punch 30mm PN 6602-110 [H1].", punch)
    fine = {"H1": "2026-10-17 inspection on PM750-000205: visual insp, all ok."}
    assert "garbled" in check_sentence("The service visit found that PM750-000205 was operational and operational [H1].",
                                       fine).reason
    assert ok("The service visit found that PM750-000205 was in good condition [H1].", fine)
    axes = {"H1": "2024-08-07 maintenance on PB800-000988: PM SERVICE; CALIBRATED Y1/Y2, CHECKED CYL SEALS; ALL OTHER AXES OK"}
    assert "whole machine" in check_sentence("The service visit found that PB800-000988 was in good condition [H1].",
                                             axes).reason
    leak = {"H1": "2005-11-14 repair on excavator D: big oil leak - R.H.S. engine - R.H. bank"}
    assert "only a person" in check_sentence("The excavator D had a big oil leak, which was reported by R.H. engine [H1].",
                                             leak).reason
    rail = {"H1": "2026-01-29 repair on BC200-000343: BENDING BEAM AXIS FOLLOWING ERROR (E-840). FOUND PLAY IN RH BEAM "
                  "GUIDE RAIL. SWAPPED RH BEAM GUIDE RAIL PART 8840-560."}
    assert "named as an error" in check_sentence("The play in the RH beam guide rail was part of the 8840-560 error [H1].",
                                                 rail).reason
    hose = {"H1": "2003-01-08 repair on excavator B: RESEAL HYDRAULIC HOSE"}
    assert "nothing about it" in check_sentence("The excavator B was repaired and a hydraulic hose was found [H1].",
                                                hose).reason
    coolant = {"H1": "2002-04-17 repair on excavator B: R/HAND ENGINE COOLENT LOSS"}
    assert not ok("The excavator B was found to have a hand engine coolant loss [H1].", coolant)


def test_no_leaks_found_is_a_finished_sentence() -> None:
    nozzle = {"H2": "2026-06-29 repair on TL3030-001296: Nozzle collision detected (E-101). traced to out of round cutting "
                    "nozzle. swapped cutting nozzle. no leaks found."}
    assert ok("The cutting nozzle was swapped and no leaks found [H2].", nozzle)
    assert "unfinished" in check_sentence("The cutting nozzle was swapped and the visit found [H2].", nozzle).reason


def test_a_thing_found_is_found_with_what_was_wrong() -> None:
    slide = {"H1": "2024-02-19 repair on TL3030-000781: SPATTERED COVER SLIDE, REPL COVER SLIDE, NO LEAKS FOUND, JOB CLOSED"}
    said = "The service visit found a spattered cover slide, a replacement cover slide, and no leaks [H1]."
    assert "nothing about it" in check_sentence(said, slide).reason
    assert ok("The service visit found a spattered cover slide and replaced it [H1].", slide)
    die = {"H1": "2024-04-23 repair on PM750-000347: craced die. swapped die. advised operator to clean daily"}
    assert ok("The service visit found a die that was cracked [H1].", die)  # the clause says what was wrong
    changer = {"H1": "2025-03-20 maintenance on BC200-000801: 1500 h maintenance - checked tool changer"}
    assert not ok("The maintenance found the tool changer [H1].", changer)


def test_a_repair_or_inspection_is_in_no_state() -> None:
    finger = {"H1": "2017-03-29 repair on PB800-000744: L/H BACK GAUGE FINGER WORN. SWAPPED L/H BACK GAUGE FINGER PN 4455-310."}
    said = "The service visit found that the PB800-000744 repair on the L/H back gauge finger was worn [H1]."
    assert "not of the repair" in check_sentence(said, finger).reason
    assert ok("The service visit found that the L/H back gauge finger was worn [H1].", finger)


def test_who_did_it_is_who_the_source_says() -> None:
    down = {"H1": "2025-07-22 maintenance on TL3030-000817: SCHEDULED SERVICE; RECOMMEND WEAR PARTS KIT ON STOCK AT "
                  "CUSTOMER; MACHINE WAS DOWN APPROX 2 H BEFORE WE ARRIVED"}
    said = "The service visit found that the machine was down approximately 2 hours before the customer arrived [H1]."
    assert "the customer arrived; the source says the technician" in check_sentence(said, down).reason
    assert ok("The machine was down approximately 2 hours before the technician arrived [H1].", down)


def test_a_part_number_is_not_the_part_and_a_state_keeps_its_holder() -> None:
    chiller = {"H1": "2026-01-06 repair on TL3030-000812: cause: chiller dirty. changed chiller pn 1240-015."}
    assert "garbled" in check_sentence("The chiller was dirty and changed its PN from 1240-015 to 1240-015 [H1].",
                                       chiller).reason
    assert ok("The chiller was dirty and was changed (PN 1240-015) [H1].", chiller)
    coil = {"H1": "2025-08-22 repair on PB1100-000878: coil burnt on prop valve y1. repl prop valve y1 p/n 4480-015."}
    assert "the coil on the prop valve y1 is burnt" in check_sentence(
        "The service visit found that the prop valve y1 was burnt [H1].", coil).reason
    assert ok("The service visit found a burnt coil on prop valve y1 [H1].", coil)


def test_the_visit_is_the_teams_and_a_wear_parts_kit_is_stock() -> None:
    valve = {"H1": "2020-09-02 repair on TL3030-000612: gas valve leaking. fitted new gas valve. customer considering "
                   "replacement with newer model"}
    assert "the customer made the visit" in check_sentence(
        "The gas valve was leaking and was replaced; the service visit was made by the customer [H1].", valve).reason
    assert ok("The gas valve was leaking and a new gas valve was fitted [H1].", valve)
    kit = {"H1": "2023-08-24 maintenance on TL3030-000612: 500H SERVICE. RECOMMEND WEAR PARTS KIT ON STOCK AT CUSTOMER."}
    assert "state 'wear'" in check_sentence("The service visit found that the part kit was worn [H1].", kit).reason
    assert ok("The technician recommended a wear parts kit on stock at the customer [H1].", kit)
    assert "garbled" in check_sentence("The excavator C was repaired by a service visit from who made it [H1].",
                                       {"H1": "2006-11-27 repair on excavator C: RF-PRESSURISING MOTOR U/S."}).reason


def test_a_deed_acts_on_its_own_items_thing() -> None:
    chiller = {"H1": "2025-12-15 inspection on TL3030-000675: condition check. chiller dirty, recommend repl. laser power at "
                     "98 % of nominal."}
    said = "The visit found the chiller dirty and recommended to replace the laser power at 98 % of nominal [H1]."
    assert "of another item" in check_sentence(said, chiller).reason
    assert ok("The visit found the chiller dirty and recommended replacing it; laser power was at 98 % of nominal [H1].",
              chiller)


def test_to_be_done_is_not_done_whatever_the_verb() -> None:
    hose = {"H1": "2009-08-25 repair on excavator D: Pirtek to make hose for SHD24"}
    assert "still to be done ('to make')" in check_sentence("Pirtek made a hose for SHD24 [H1].", hose).reason
    assert ok("Pirtek is to make a hose for SHD24 [H1].", hose)


def test_the_machine_is_not_faulty_for_its_part() -> None:
    sender = {"H1": "2007-09-10 repair on excavator C: FUEL TANK SENDER FAULTY - RH - REPLACE"}
    assert "the machine was faulty" in check_sentence("The excavator C was found to be faulty [H1].", sender).reason
    assert ok("The RH fuel tank sender of excavator C was faulty and was replaced [H1].", sender)


def test_what_was_found_needs_a_verb() -> None:
    belt = {"H1": "2017-08-11 replacement on TL3030-000666: replace L/H drive belt Y. PN 1251-870."}
    assert "a fragment" in check_sentence("The service visit found that the TL3030-000666 drive belt Y [H1].", belt).reason
    assert ok("The service visit replaced the L/H drive belt Y (PN 1251-870) [H1].", belt)
    valve = {"H1": "2024-06-24 replacement on PB2300-000574: Fitted new prop valve Y2. p/n 4480-015."}
    assert ok("The service visit found that the new prop valve Y2. p/n 4480-015. was fitted [H1].", valve)


def test_the_machines_downtime_is_not_its_parts() -> None:
    pump = {"H1": "2023-11-06 repair on PB1100-000738: cavitating main pump. machine was down approx 29 h before we arrived."}
    assert "the pump was down" in check_sentence(
        "The service visit found that the main pump was down approximately 29 hours before we arrived [H1].", pump).reason
    assert ok("The PB1100-000738 was down approximately 29 hours before we arrived [H1].", pump)


def test_an_error_code_is_not_part_of_a_parts_name() -> None:
    nozzle = {"H1": "2026-10-25 repair on TL3030-000656: MACHINE STOPS WITH E-101. DAMAGED CUTTING NOZZLE. REPL CUTTING NOZZLE."}
    assert "error code" in check_sentence("The machine stopped with an E-101 cutting nozzle [H1].", nozzle).reason
    assert ok("The machine stopped with E-101 and the damaged cutting nozzle was replaced [H1].", nozzle)
