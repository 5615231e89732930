"""Thin routers, one per resource; the logic lives in the services they call."""

from sdi.api.routes import (admin, audit, dataload, drafting, health, kpis, leads, machines, opportunities, performance,
                            sources, snapshot, status, users)

ROUTERS = [health.router, opportunities.router, drafting.router, machines.router, sources.router, leads.router,
           audit.router, users.router, admin.router, dataload.router, status.router, kpis.router, performance.router,
           snapshot.router]
