"""A reseller owner invites a colleague (the invitation arrives by the real SMTP server), who accepts it by choosing
a password; the owner changes their role, and creates then archives a plan that its pricing page offers."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in, sign_up
from tests.support.mailbox import link_in
from tests.support.servers import RunningPortal, SmtpInbox


def test_owner_invites_changes_a_role_and_manages_a_plan(page: Page, portal: RunningPortal, inbox: SmtpInbox) -> None:
    acme = portal.url.replace("localhost", "acme.localhost", 1)
    sign_in(page, acme, "owner@acme.example.com", "demo-password-123")
    page.goto(acme + "/admin")
    page.click("#tab-people")
    page.fill("#invite-email", "colleague@acme.example.com")
    page.click("#invite-submit")
    expect(page.locator("tr[data-invitation='colleague@acme.example.com']")).to_contain_text("support")
    expect(page.locator("tr[data-person='colleague@acme.example.com']")).to_have_count(0)  # not before accepting
    invitation = inbox.wait_for("colleague@acme.example.com", "invited")
    link = link_in(invitation)
    assert "Acme Cloud" in invitation["Subject"] and link.startswith(acme + "/invitation?token=")

    colleague = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    colleague.goto(link)
    expect(colleague.locator("#invitation-offer")).to_contain_text("Acme Cloud")
    colleague.fill("#password", "a brand new passphrase here")
    colleague.fill("#confirm", "a brand new passphrase here")
    colleague.click("#accept-invitation-submit")
    expect(colleague).to_have_url(re.compile(r"/admin/?$"))
    colleague.goto(link)  # the link worked once
    expect(colleague.locator("#invitation-invalid")).to_be_visible()
    colleague.context.close()

    page.reload()
    page.click("#tab-people")
    person = page.locator("tr[data-person='colleague@acme.example.com']")
    expect(person).to_contain_text("support")
    person.locator("button[role=combobox]").click()
    page.get_by_role("option", name="admin", exact=True).click()
    expect(person.locator("button[role=combobox]")).to_have_text("admin")

    page.click("#tab-plans")
    page.fill("#plan-name-input", "Acme Team")
    page.fill("#plan-slug-input", "acme-team")
    page.fill("#plan-price-input", "-5")
    page.click("#plan-save")
    expect(page.locator("#team-price_cents-error")).to_contain_text("0 or more")
    page.fill("#plan-price-input", "4900")
    page.fill("#plan-stripe-input", "price_demo_acme_team")
    page.fill("#plan-budget-input", "25")
    page.click("#plan-save")
    row = page.locator("tr[data-plan='acme-team']")
    expect(row).to_contain_text("4900")
    page.goto(acme + "/pricing")
    expect(page.get_by_text("Acme Team", exact=True)).to_be_visible()

    page.goto(acme + "/admin")
    page.click("#tab-plans")
    page.locator("tr[data-plan='acme-team'] .edit-plan").click()
    expect(page.locator("#plan-name-input")).to_have_value("Acme Team")
    page.fill("#plan-price-input", "5900")
    page.click("#plan-save")
    expect(page.locator("tr[data-plan='acme-team']")).to_contain_text("5900")

    page.fill("#template-name-input", "Acme app")
    page.fill("#template-slug-input", "acme-app")
    page.fill("#template-image-input", "portal-test/app:latest")
    page.fill("#template-env-input", "ADMIN_EMAIL={{ customer.email }}\nthis is not a variable")
    page.click("#template-save")
    expect(page.locator("#team-template_env_template-error")).to_contain_text("line 2")
    page.fill("#template-env-input", "ADMIN_EMAIL={{ customer.email }}")
    page.click("#template-save")
    expect(page.locator("tr[data-template='acme-app']")).to_contain_text("docker")

    page.locator("tr[data-plan='acme-team'] .archive-plan").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("those who have it keep it")  # said before it happens
    page.click("#confirm-archive-plan")
    expect(page.locator("tr[data-plan='acme-team']")).to_contain_text("yes")
    page.goto(acme + "/pricing")
    expect(page.get_by_text("Acme Basic", exact=True)).to_be_visible()
    expect(page.get_by_text("Acme Team", exact=True)).to_have_count(0)


def test_a_customer_invites_a_colleague_who_sees_the_instance_but_not_billing(
    page: Page, portal: RunningPortal, inbox: SmtpInbox
) -> None:
    sign_up(page, portal.url, "teamcustomer", plan="free")
    page.click("#team-link")
    expect(page).to_have_url(re.compile(r"/team/?$"))
    expect(page.locator("#team-members")).to_contain_text("teamcustomer@example.com (you)")
    page.fill("#email", "mate@example.com")
    page.click("#invite-submit")  # the role offered first is member
    expect(page.locator("[data-invitation='mate@example.com']")).to_contain_text("member")
    link = link_in(inbox.wait_for("mate@example.com", "invited"))

    colleague = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    colleague.goto(link)
    colleague.fill("#password", "a brand new passphrase here")
    colleague.fill("#confirm", "a brand new passphrase here")
    colleague.click("#accept-invitation-submit")
    expect(colleague).to_have_url(re.compile(r"/dashboard/?$"))
    expect(colleague.locator("#no-billing")).to_be_visible()  # a member sees status and usage, not billing
    expect(colleague.locator("#manage-billing")).to_have_count(0)
    colleague.goto(portal.url + "/team")
    expect(colleague.locator("#team-members")).to_contain_text("teamcustomer@example.com")
    expect(colleague.locator("#invite-submit")).to_have_count(0)
    colleague.context.close()

    page.reload()
    expect(page.locator("tr[data-member='mate@example.com']")).to_contain_text("member")
    page.click("#leave-team")
    page.click("#confirm-leave-team")
    expect(page.locator("#form-error")).to_contain_text("at least one owner")  # the last owner stays


def test_the_platform_creates_a_reseller_whose_owner_lands_on_what_to_set_up(
    page: Page, portal: RunningPortal, inbox: SmtpInbox
) -> None:
    sign_in(page, portal.url, "admin@example.com", "demo-password-123")
    page.goto(portal.url + "/admin")
    page.click("#tab-resellers")
    page.fill("#seller-name", "Delta Hosting")
    page.fill("#seller-slug", "delta")
    page.fill("#seller-owner_email", "owner@delta.example.com")
    page.fill("#seller-platform_name", "Delta Cloud")
    page.fill("#seller-tier", "starter")
    page.click("#seller-submit")
    expect(page.locator("tr[data-seller='delta']")).to_contain_text("invited: owner@delta.example.com")

    owner = page.context.browser.new_context().new_page()  # type: ignore[union-attr]
    owner.goto(link_in(inbox.wait_for("owner@delta.example.com", "invited")))
    owner.fill("#password", "a brand new passphrase here")
    owner.fill("#confirm", "a brand new passphrase here")
    owner.click("#accept-invitation-submit")
    expect(owner).to_have_url(re.compile(r"/admin/?$"))
    steps = owner.locator("#setup-steps")
    expect(steps).to_contain_text("Your brand")
    expect(steps.locator("[data-step='plans']")).to_contain_text("Create the plans you sell")
    # payouts: the new owner connects a Stripe account (test mode: the local stand-in's onboarding page)
    expect(owner.locator("#payouts-status")).to_have_text("Not connected")
    owner.click("#connect-payouts")
    expect(owner).to_have_url(re.compile(r"/billing/test-connect\?account=acct_local_"))
    owner.click("#finish-onboarding")
    expect(owner).to_have_url(re.compile(r"/admin/?\?payouts=return"))
    expect(owner.locator("#payouts-status")).to_have_attribute("data-status", "enabled")
    expect(steps.locator("[data-step='payouts']")).not_to_contain_text("Connect your own Stripe account")
    owner.context.close()
