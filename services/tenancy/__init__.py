"""Tenancy: the organization tree, who acts for which organization, and the one scoping function.

Everything that reads or changes a tenant's records asks `scope` first; authorisation comes from memberships and
roles only, never from the host a request arrived on or from what a browser sends.
"""
