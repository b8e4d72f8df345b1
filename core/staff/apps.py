from django.apps import AppConfig


class StaffConfig(AppConfig):
    """队伍建设: the roster of people who work in communities, streets and facilities (issue 11 part 3).

    Who appears: 社区工作者, 持证社工 (助理社会工作师 / 社会工作师 / 高级社会工作师, with certificate), 养老护理员
    (职业技能等级 初级工 … 高级技师, with certificate, or none yet), 儿童主任 (one per community), 儿童督导员 (one
    per street), 志愿服务站负责人, 其他. Positions are dated and never overwritten (models.py).

    Who may do what (access.py):
    - everyone with a role but 系统管理员 sees the roster, the 缺岗 lists and the figures of their scope;
    - 社区经办人 and 街道审核员 enter and change the 社区工作者 and 儿童主任 of the communities in their scope;
    - the section staff (科室经办人, 科长) do so for their section's roles: 儿童福利科 儿童主任 and 儿童督导员,
      养老服务科 养老护理员, 社会组织管理科 持证社工, 志愿服务站负责人 and 其他;
    - 局领导 read only. A member's details are changed by whoever manages one of the roles they hold.

    The app sits on core.registry (regions, the ID-number rules, encryption and masking) and imports no
    bureau. The dashboard card and the demo roster are hooked in by core.portal (the floor above)."""

    name = "core.staff"
    label = "staff"
    verbose_name = "队伍建设"

    def ready(self) -> None:
        from core.accounts.navigation import NavGroup, NavItem

        menu = NavGroup("staff", "队伍建设", order=75, section_code="")
        menu.register(
            NavItem(
                "人员花名册", "staff:roster_list", icon="person-badge", permission="staff.view_staffmember"
            ),
            NavItem(
                "儿童主任缺岗",
                "staff:vacant_directors_list",
                icon="exclamation-diamond",
                permission="staff.view_staffmember",
            ),
            NavItem(
                "儿童督导员缺岗",
                "staff:vacant_supervisors_list",
                icon="exclamation-diamond",
                permission="staff.view_staffmember",
            ),
        )
