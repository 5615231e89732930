"""The technician's sign-up sheet: standard fixed-price activities under the threshold that fit this machine."""

from __future__ import annotations

from typing import Any

from sdi.drafting.checker import GENERIC
from sdi.drafting.types import Source
from sdi.store import MachineFile


def sign_up_sheet(db: MachineFile, serial: str, triggers: list[dict[str, Any]], recent: list[tuple[Source, str]],
                  price_limit: float, refs: dict[str, str], size: int = 5) -> list[dict[str, Any]]:
    """Offers under the price limit for the machine's model, ranked: fits an open trigger, then fits its history."""
    model = db.scalar("SELECT model FROM machines WHERE serial = ?", [serial])
    offers = db.sql(
        "SELECT offer_id, name, price, currency, duration, models, triggers FROM service_offers "
        "WHERE price < ? ORDER BY price, offer_id", [price_limit]
    )
    fired = {t["rule_id"]: t for t in triggers}
    ranked = []
    for offer_id, name, price, currency, duration, models, answers in offers:
        if models and model not in models:
            continue
        item = {"offer_id": offer_id, "name": name, "price": price, "currency": currency, "duration": duration,
                "reason": "standard activity for this model", "citations": [], "rank": 3}
        hit = next((fired[r] for r in (answers or []) if r in fired), None)
        if hit:
            item.update(reason=f"answers the {hit['rule_id'].replace('_', ' ')} trigger", citations=[refs[hit["trigger_id"]]], rank=1)
        else:
            words = [w for w in name.lower().replace("-", " ").replace("(", " ").replace(")", " ").replace(",", " ").split()
                     if len(w) > 4 and w not in GENERIC]
            matched = next((src for src, line in recent if any(w in line.lower() for w in words)), None)
            if matched:
                item.update(reason="fits what the service history mentions", citations=[matched.id], rank=2)
        ranked.append(item)
    ranked.sort(key=lambda i: (i["rank"], i["price"], i["offer_id"]))
    return [{k: v for k, v in i.items() if k != "rank"} for i in ranked[:size]]
