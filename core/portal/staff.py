"""队伍建设 on the dashboard and in seed_demo: core/staff sits below the portal and may not import it, so its
card and its demo roster are hooked in here (the floor above)."""

from __future__ import annotations

from core.staff.demo import seed_staff_demo
from core.staff.selectors import staff_counts

from .dashboard import register_dashboard_panel
from .demo import register_demo_seeder

# Figures for the user's scope only (staff_counts reads through visible_to), so the per-scope cache holds.
register_dashboard_panel(
    "staff_qualifications",
    staff_counts,
    template="staff/dashboard/qualifications.html",
    permission="staff.view_staffmember",
    order=75,
)
register_demo_seeder("队伍建设", seed_staff_demo, order=75)
