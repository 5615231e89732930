"""`sdi webhooks deliver | replay | status | enable | secret` and `sdi bench webhooks` (issue 13)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Iterator, Optional

import typer

from sdi.cli.options import JsonOpt, open_db, print_json

from sdi.errors import SdiError

if TYPE_CHECKING:
    from sdi.config import Settings
    from sdi.store import MachineFile

webhooks_app = typer.Typer(help="Signed webhooks (Standard Webhooks) for every opportunity, lead and outcome event.",
                           no_args_is_help=True)


@contextmanager
def _opened() -> Iterator[tuple["Settings", "MachineFile"]]:
    """The settings and the machine file they point at."""
    from sdi.config import get_settings

    settings = get_settings()
    with open_db(settings) as db:
        yield settings, db


def _since(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise SdiError(f"--since {value!r} is not a date or time", "use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from exc


def _render_status(report: dict[str, Any]) -> str:
    lines = [f"{report['events']:,} events logged"]
    if not report["endpoints"]:
        lines.append("no webhook endpoint configured (set SDI_WEBHOOK_URL and SDI_WEBHOOK_SECRET, or webhooks: in the config file)")
    for ep in report["endpoints"]:
        note = f" — {ep['disabled_reason']} (re-enable: sdi webhooks enable {ep['url']})" if ep["state"] == "disabled" else ""
        note += "" if ep["configured"] else " — no longer configured"
        lines.append(f"  {ep['url']}  {ep['state']}  pending {ep['pending']}  delivered {ep['delivered']}  "
                     f"failed {ep['failed']}{note}")
    if report["deliveries"]:
        lines.append("last attempts:")
    for d in report["deliveries"]:
        lines.append(f"  {d['attempted_at']:%Y-%m-%d %H:%M:%S}  {d['type'] or '?'} #{d['event_id']} attempt {d['attempt']}  "
                     f"{d['status_code'] or '-'}  {d['duration_ms']:.0f} ms  {d['endpoint']}  {d['error'] or ''}".rstrip())
    return "\n".join(lines)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add `webhooks …` and `bench webhooks` to the sdi command."""
    app.add_typer(webhooks_app, name="webhooks")

    @webhooks_app.command("deliver")
    def deliver(
        wait: Annotated[float, typer.Option(help="Also wait up to this many seconds for retries to fall due.")] = 0.0,
        as_json: JsonOpt = False,
    ) -> None:
        """Send every pending delivery that is due, then exit (what still waits for a retry stays queued)."""
        from sdi.loop.webhooks import deliver as run

        with _opened() as (settings, db):
            if not settings.webhook_endpoints:
                raise SdiError("no webhook endpoint is configured",
                               "set SDI_WEBHOOK_URL and SDI_WEBHOOK_SECRET (or webhooks: in the config file)")
            counts = run(db, settings, wait)
            pending = db.scalar("SELECT count(*) FROM webhook_outbox WHERE state = 'pending'")
        result = vars(counts) | {"pending": pending}
        if as_json:
            print_json(result)
        else:
            typer.echo(f"{counts.attempts} attempts: {counts.delivered} delivered, {counts.retrying} to retry, "
                       f"{counts.gave_up} given up; {pending} pending"
                       + (f"; disabled (410 Gone): {', '.join(counts.disabled)}" if counts.disabled else ""))

    @webhooks_app.command("replay")
    def replay(
        since: Annotated[str, typer.Option(help="Re-queue events that occurred at or after this date/time (UTC).")],
        endpoint: Annotated[Optional[str], typer.Option(help="Only this configured endpoint URL.")] = None,
    ) -> None:
        """Queue logged events again (same webhook-id, so receivers can drop what they already have)."""
        from sdi.loop.outbox import replay as run

        with _opened() as (settings, db):
            targets = [e for e in settings.webhook_endpoints if endpoint in (None, e.url)]
            if not targets:
                raise SdiError(f"no configured webhook endpoint {endpoint or ''}".strip(), "see: sdi webhooks status")
            count = run(db, targets, _since(since))
        typer.echo(f"{count} deliveries queued; send them with: sdi webhooks deliver")

    @webhooks_app.command("status")
    def status(
        limit: Annotated[int, typer.Option(help="Delivery-log rows to show.")] = 20,
        as_json: JsonOpt = False,
    ) -> None:
        """Endpoints (active, paused, disabled) with pending / delivered / failed counts, and the last attempts."""
        from sdi.loop.outbox import status as run

        with _opened() as (settings, db):
            report = run(db, [e.url for e in settings.webhook_endpoints], limit)
        print_json(report) if as_json else typer.echo(_render_status(report))

    @webhooks_app.command("enable")
    def enable(url: Annotated[str, typer.Argument(help="The endpoint URL a 410 Gone disabled.")]) -> None:
        """Re-enable an endpoint that answered 410 Gone; its queued deliveries go out again."""
        from sdi.loop.outbox import enable as run

        with _opened() as (_, db):
            changed = run(db, url)
        typer.echo(f"{url} enabled" if changed else f"{url} was not disabled")

    @webhooks_app.command("secret")
    def secret() -> None:
        """Print a new signing secret (whsec_…) for SDI_WEBHOOK_SECRET and the receiver."""
        from sdi.loop.webhooks import new_secret

        typer.echo(new_secret())

    @bench_app.command("webhooks")
    def bench_webhooks(
        events: Annotated[int, typer.Option(help="Events to deliver.")] = 1000,
        fail: Annotated[float, typer.Option(help="Share of requests the receiver answers 500.")] = 0.2,
        seed: Annotated[int, typer.Option(help="Seed of the receiver's failures.")] = 1,
        as_json: JsonOpt = False,
    ) -> None:
        """Deliver N events to a loopback receiver with injected failures: seconds, lost and duplicated webhook-ids."""
        from sdi.loop.webhook_bench import run

        run(events, fail, seed, as_json)
