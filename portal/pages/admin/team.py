"""Console tabs: People (invite, roles, disable) and Plans (create, archive)."""

from __future__ import annotations

import reflex as rx

from portal.components.confirm import confirmed
from portal.components.empty import when_empty
from portal.components.i18n import t
from portal.state.admin_team import TeamState as T
from services.tenancy.licences import FEATURES
from services.tenancy.scope import ROLES_OFFERED
from services.usage.alerts import POLICIES

ROLES = list(ROLES_OFFERED)


def _error(name: str) -> rx.Component:
    return rx.cond(
        T.form_errors.get(name, "") != "",
        rx.text(T.form_errors.get(name, ""), color_scheme="red", size="1", id=f"team-{name or 'form'}-error"),
    )


def _person(row: rx.Var) -> rx.Component:
    disabled = row["status"].to(str) == "disabled"
    return rx.table.row(
        rx.table.cell(row["email"].to(str)),
        rx.table.cell(row["organization"].to(str)),
        rx.table.cell(
            rx.select(
                ROLES,
                value=row["role"].to(str),
                size="1",
                on_change=lambda role: T.change_role(row["membership_id"].to(str), role),
                custom_attrs={"aria-label": t("Role of ") + row["email"].to(str)},
            )
        ),
        rx.table.cell(rx.badge(row["status"].to(str))),
        rx.table.cell(
            confirmed(
                rx.button(
                    rx.cond(disabled, t("Enable"), t("Disable")), size="1", variant="soft", class_name="toggle-user"
                ),
                rx.cond(disabled, t("Enable this person"), t("Disable this person")),
                rx.cond(
                    disabled,
                    t("Enable ") + row["email"].to(str) + t("? They can sign in again at once."),
                    t("Disable ")
                    + row["email"].to(str)
                    + t("? They are signed out everywhere at once and cannot sign in until you enable them again."),
                ),
                "Yes",
                T.toggle_disabled(row["user_id"].to(str), ~disabled),
                "confirm-toggle-user",
            )
        ),
        data_person=row["email"].to(str),
    )


def people_section() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.hstack(
                rx.input(name="email", placeholder="name@example.com", type="email", id="invite-email", width="18rem"),
                rx.select(
                    ROLES,
                    name="role",
                    default_value="support",
                    id="invite-role",
                    custom_attrs={"aria-label": t("Role")},
                ),
                rx.button(t("Invite"), type="submit", id="invite-submit"),
                align="center",
            ),
            on_submit=T.invite,
            reset_on_submit=True,
        ),
        _error("email"),
        _error("role"),
        _error(""),
        rx.input(
            placeholder=t("Search people"),
            value=T.people_search,
            on_change=T.search_people,
            debounce_timeout=300,
            width="18rem",
        ),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(h) for h in ("E-mail", "Organization", "Role", "Status", "")]
                )
            ),
            rx.table.body(rx.foreach(T.people, _person)),
            width="100%",
            size="1",
            id="people-table",
        ),
        when_empty(
            T.people, "No people match. Invite a colleague below; they get an e-mail with a link to join.", "no-people"
        ),
        rx.cond(
            T.invitations.length() > 0,
            rx.vstack(
                rx.heading(t("Open invitations"), size="3"),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[rx.table.column_header_cell(h) for h in ("E-mail", "Organization", "Role", "Expires", "")]
                        )
                    ),
                    rx.table.body(rx.foreach(T.invitations, _invitation)),
                    width="100%",
                    size="1",
                    id="invitations-table",
                ),
                width="100%",
            ),
        ),
        width="100%",
        align="start",
    )


def _invitation(row: rx.Var) -> rx.Component:
    return rx.table.row(
        *[rx.table.cell(row[k].to(str)) for k in ("email", "organization", "role", "expires")],
        rx.table.cell(
            confirmed(
                rx.button(t("Withdraw"), size="1", variant="soft", class_name="revoke-invitation"),
                "Withdraw the invitation",
                t("Withdraw the invitation to ") + row["email"].to(str) + t("? Its link stops working at once."),
                "Withdraw",
                T.revoke_invitation(row["id"].to(str)),
                "confirm-revoke-invitation",
            )
        ),
        data_invitation=row["email"].to(str),
    )


def _plan(row: rx.Var) -> rx.Component:
    return rx.table.row(
        *[
            rx.table.cell(row[k].to(str))
            for k in ("seller", "name", "slug", "price_cents", "budget", "policy", "subscriptions", "archived")
        ],
        rx.table.cell(_edit_and_archive(row, "plan", T.edit_plan, T.archive_plan)),
        data_plan=row["slug"].to(str),
    )


def _edit_and_archive(row: rx.Var, kind: str, edit, archive) -> rx.Component:
    """A row's Edit button, and Archive while it is not archived yet (plans and templates alike)."""
    return rx.hstack(
        rx.button(t("Edit"), size="1", variant="soft", class_name=f"edit-{kind}", on_click=edit(row["id"].to(str))),
        rx.cond(
            row["archived"].to(str) == "",
            confirmed(
                rx.button(t("Archive"), size="1", variant="soft", class_name=f"archive-{kind}"),
                f"Archive this {kind}",
                t("Archive ")
                + row["name"].to(str)
                + f"? From now on no new customer can choose this {kind}; those who have it keep it as it is.",
                "Archive",
                archive(row["id"].to(str)),
                f"confirm-archive-{kind}",
            ),
        ),
    )


def _controlled(form: rx.Var, setter, name: str, placeholder: str, **props) -> rx.Component:
    return rx.input(value=form.get(name, ""), on_change=lambda v: setter(name, v), placeholder=t(placeholder), **props)


def _template(row: rx.Var) -> rx.Component:
    return rx.table.row(
        *[rx.table.cell(row[k].to(str)) for k in ("name", "slug", "backend", "image", "port", "shared", "archived")],
        rx.table.cell(_edit_and_archive(row, "template", T.edit_template, T.archive_template)),
        data_template=row["slug"].to(str),
    )


def _rollout(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["plan"].to(str)),
        rx.table.cell(row["kind"].to(str)),
        rx.table.cell(
            rx.hstack(
                rx.progress(value=row["percent"].to(int), width="8rem", aria_label=t("Progress of ") + row["plan"]),
                rx.text(row["progress"].to(str), size="1"),
                align="center",
            )
        ),
        rx.table.cell(row["failed"].to(str)),
        rx.table.cell(rx.badge(row["state"].to(str))),
        rx.table.cell(rx.text(row["detail"].to(str), size="1")),
        data_rollout=row["id"].to(str),
    )


def _rollouts() -> rx.Component:
    """Plan edits reaching existing subscribers: limits to their instances, a new price to their subscriptions."""
    return rx.cond(
        T.rollouts.length() > 0,
        rx.vstack(
            rx.heading(t("Plan changes reaching subscribers"), size="3"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Plan", "Change", "Progress", "Failed", "State", "Detail")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(T.rollouts, _rollout)),
                width="100%",
                size="1",
                id="plan-rollouts",
            ),
            width="100%",
        ),
    )


def plans_section() -> rx.Component:
    p, template = T.plan_form, T.template_form
    return rx.vstack(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in (
                            "Seller",
                            "Name",
                            "Slug",
                            "Price (cents)",
                            "Budget",
                            "At 100 %",
                            "Subscriptions",
                            "Archived",
                            "",
                        )
                    ]
                )
            ),
            rx.table.body(rx.foreach(T.plans, _plan)),
            width="100%",
            size="1",
            id="plans-table",
        ),
        when_empty(
            T.plans,
            "No plans yet. Create your first plan with the form below; customers see it on your pricing page at once.",
            "no-plans",
        ),
        rx.heading(rx.cond(p.get("id", "") != "", t("Edit plan"), t("New plan")), size="3"),
        rx.flex(
            _controlled(p, T.set_plan_field, "name", "Name", id="plan-name-input"),
            _controlled(p, T.set_plan_field, "slug", "slug", id="plan-slug-input"),
            _controlled(p, T.set_plan_field, "price_cents", "Price in cents", id="plan-price-input"),
            _controlled(p, T.set_plan_field, "stripe_price_id", "Stripe price id (paid plans)", id="plan-stripe-input"),
            _controlled(p, T.set_plan_field, "budget", "Included budget, e.g. 10", id="plan-budget-input"),
            rx.select(
                list(POLICIES),
                value=p.get("budget_policy", "notify"),
                on_change=lambda v: T.set_plan_field("budget_policy", v),
                custom_attrs={"aria-label": t("When the budget runs out")},
            ),
            _controlled(p, T.set_plan_field, "limit_memory_mb", "Memory (MB)", id="plan-memory-input"),
            _controlled(p, T.set_plan_field, "limit_cpus", "CPUs", id="plan-cpus-input"),
            _controlled(
                p,
                T.set_plan_field,
                "limit_backup_interval_hours",
                "Backup every (hours, 0: none)",
                id="plan-backup-input",
            ),
            _controlled(p, T.set_plan_field, "limit_backups_kept", "Backups kept", id="plan-backups-kept-input"),
            _controlled(p, T.set_plan_field, "region", "Region (blank: any server)", id="plan-region-input"),
            rx.hstack(
                rx.checkbox(
                    checked=p.get("reprice_existing", "") == "on",
                    on_change=lambda v: T.set_plan_field("reprice_existing", rx.cond(v, "on", "")),
                    id="plan-reprice",
                ),
                rx.el.label(
                    t(
                        "A new Stripe price also reaches existing subscribers, from their next period (each is told "
                        "by e-mail first)"
                    ),
                    html_for="plan-reprice",
                    class_name="rt-Text rt-r-size-2",
                ),
                align="center",
            ),
            rx.button(t("Save plan"), on_click=T.save_plan_form, id="plan-save"),
            wrap="wrap",
            spacing="2",
        ),
        *[
            _error(f)
            for f in (
                "name",
                "slug",
                "price_cents",
                "stripe_price_id",
                "budget_included_micros",
                "budget_policy",
                "limits",
                "",
            )
        ],
        _rollouts(),
        rx.heading(t("App templates"), size="4"),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Name", "Slug", "Backend", "Image", "Port", "Shared", "Archived", "")
                    ]
                )
            ),
            rx.table.body(rx.foreach(T.templates, _template)),
            width="100%",
            size="1",
            id="templates-table",
        ),
        when_empty(
            T.templates,
            "No app templates yet. Add one below: it says which image or repository each customer's instance runs.",
            "no-templates",
        ),
        rx.heading(rx.cond(template.get("id", "") != "", t("Edit template"), t("New template")), size="3"),
        rx.flex(
            _controlled(template, T.set_template_field, "name", "Name", id="template-name-input"),
            _controlled(template, T.set_template_field, "slug", "slug", id="template-slug-input"),
            rx.select(
                ["docker", "coolify"],
                value=template.get("backend", "docker"),
                on_change=lambda v: T.set_template_field("backend", v),
                custom_attrs={"aria-label": t("Backend")},
            ),
            _controlled(template, T.set_template_field, "image", "Image (Docker)", id="template-image-input"),
            _controlled(template, T.set_template_field, "port", "Port", id="template-port-input"),
            _controlled(template, T.set_template_field, "health_path", "Health path", id="template-health-input"),
            wrap="wrap",
            spacing="2",
        ),
        rx.text_area(
            value=template.get("env_template", ""),
            on_change=lambda v: T.set_template_field("env_template", v),
            placeholder="ADMIN_EMAIL={{ customer.email }}",
            rows="5",
            width="100%",
            id="template-env-input",
        ),
        rx.button(t("Save template"), on_click=T.save_template_form, id="template-save"),
        *[
            _error(f"template_{f}")
            for f in ("name", "slug", "backend", "image", "internal_port", "health_path", "env_template", "")
        ],
        width="100%",
        align="start",
    )


def licences_section() -> rx.Component:
    return rx.vstack(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(h)
                        for h in ("Reseller", "Tier", "Customers", "Features", "Authorised domains", "Expires", "State")
                    ]
                )
            ),
            rx.table.body(
                rx.foreach(
                    T.licences,
                    lambda r: rx.table.row(
                        *[
                            rx.table.cell(r[k].to(str))
                            for k in ("name", "tier", "customers", "features", "domains", "expires", "state")
                        ],
                        data_licence=r["name"].to(str),
                    ),
                )
            ),
            width="100%",
            size="1",
            id="licences-table",
        ),
        when_empty(
            T.licences,
            "No reseller holds a licence yet. Set one below once a reseller exists.",
            "no-licences",
        ),
        rx.heading(t("Set a licence"), size="3"),
        rx.form(
            rx.flex(
                rx.select.root(
                    rx.select.trigger(
                        placeholder=t("Reseller"),
                        aria_label=t("Reseller"),
                        # Radix greys a placeholder to gray-a10, under 4.5:1 on the console's cards (axe)
                        style={"& .rt-SelectTriggerInner": {"color": "var(--gray-11)"}},
                    ),
                    rx.select.content(
                        rx.foreach(T.licences, lambda r: rx.select.item(r["name"].to(str), value=r["id"].to(str)))
                    ),
                    name="organization_id",
                ),
                rx.input(name="tier", placeholder=t("Tier")),
                rx.input(name="max_customers", placeholder=t("Max customers")),
                rx.input(name="max_instances", placeholder=t("Max instances")),
                rx.input(name="max_domains", placeholder=t("Max domains")),
                rx.input(
                    name="application_fee_percent",
                    placeholder=t("Platform fee % (payouts)"),
                    aria_label=t("Platform fee in percent, on payments to the reseller's own Stripe account"),
                ),
                rx.input(name="domains", placeholder=t("Authorised domains, comma separated")),
                rx.input(name="features", placeholder=f"Features: {', '.join(FEATURES)}", width="24rem"),
                rx.input(name="expires", type="date", placeholder=t("Expires")),
                rx.input(name="grace_days", placeholder=t("Grace days (14)")),
                rx.select(
                    ["active", "suspended"],
                    name="status",
                    default_value="active",
                    custom_attrs={"aria-label": t("Status")},
                ),
                rx.button(t("Save licence"), type="submit"),
                wrap="wrap",
                spacing="2",
            ),
            on_submit=T.save_licence,
        ),
        *[
            _error(f)
            for f in (
                "tier",
                "max_customers",
                "max_instances",
                "max_domains",
                "application_fee_bps",
                "authorized_domains",
                "features",
                "grace_days",
                "status",
                "expires_at",
                "",
            )
        ],
        width="100%",
        align="start",
    )


def _seller(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["name"].to(str)),
        rx.table.cell(row["slug"].to(str)),
        rx.table.cell(row["kind"].to(str)),
        rx.table.cell(row["tier"].to(str)),
        rx.table.cell(row["owner"].to(str)),
        data_seller=row["slug"].to(str),
    )


def _labelled_input(label: str, name: str, **props: object) -> rx.Component:
    return rx.vstack(
        rx.el.label(t(label), html_for=f"seller-{name}", class_name="rt-Text rt-r-size-2"),
        rx.input(name=name, id=f"seller-{name}", **props),
        spacing="1",
        align="start",
    )


def sellers_section() -> rx.Component:
    """Resellers (from the platform) or sub-resellers (from a reseller): who was created, and a form that creates
    one with its licence, its starting brand and an invitation to its owner."""
    return rx.vstack(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(h) for h in ("Name", "Address", "Kind", "Licence", "Owner")])
            ),
            rx.table.body(rx.foreach(T.sellers, _seller)),
            width="100%",
            size="1",
            id="sellers-table",
        ),
        when_empty(
            T.sellers,
            "No resellers yet. Create one below: they get their own brand, plans and customers.",
            "no-sellers",
        ),
        rx.heading(t("New reseller"), size="3"),
        rx.form(
            rx.flex(
                _labelled_input("Name", "name", required=True),
                _labelled_input("Address (slug)", "slug", required=True),
                _labelled_input("Owner's e-mail", "owner_email", type="email", required=True),
                _labelled_input("Brand name", "platform_name"),
                _labelled_input("Support e-mail", "support_email", type="email"),
                _labelled_input("Licence tier", "tier"),
                _labelled_input("Features (comma-separated)", "features"),
                _labelled_input("Max customers", "max_customers"),
                _labelled_input("Max instances", "max_instances"),
                rx.button(t("Create and invite the owner"), type="submit", id="seller-submit"),
                wrap="wrap",
                spacing="3",
                align="end",
            ),
            on_submit=T.create_seller,
            reset_on_submit=True,
        ),
        *[
            _error(f)
            for f in ("name", "slug", "owner_email", "email", "tier", "features", "max_customers", "max_instances", "")
        ],
        width="100%",
        spacing="3",
    )
