"""服务设施 in seed_demo: core/facilities sits below the portal and may not import it, so its demo data is
hooked in here (the floor above)."""

from __future__ import annotations

from core.facilities.demo import seed_facilities_demo

from .demo import register_demo_seeder

register_demo_seeder("服务设施", seed_facilities_demo, order=70)
