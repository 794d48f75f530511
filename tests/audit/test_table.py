"""Every route is either recorded or listed as not recorded, with a reason: none escapes."""

from __future__ import annotations

from clinic.audit.recording import AUDITED, NOT_AUDITED

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def routes(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IGNORED_METHODS
    }


def test_every_endpoint_and_method_is_in_the_table(app):
    missing = sorted(routes(app) - AUDITED.keys() - NOT_AUDITED.keys())
    assert not missing, (
        "add these to AUDITED (or, with a reason, NOT_AUDITED) in clinic/audit/recording.py: "
        f"{missing}"
    )


def test_the_table_names_only_real_routes_and_each_once(app):
    known = routes(app)
    assert not AUDITED.keys() & NOT_AUDITED.keys()
    assert not sorted(AUDITED.keys() - known), "AUDITED names routes that do not exist"
    assert not sorted(NOT_AUDITED.keys() - known), "NOT_AUDITED names routes that do not exist"
    assert all(reason.strip() for reason in NOT_AUDITED.values())


def test_record_arguments_are_in_their_urls(app):
    arguments = {}
    for rule in app.url_map.iter_rules():
        arguments.setdefault(rule.endpoint, set()).update(rule.arguments)
    every_argument = set().union(*arguments.values())
    for (endpoint, _method), audited in AUDITED.items():
        if audited.record_arg:
            assert audited.record_arg in arguments[endpoint], endpoint
        created = audited.created or ""
        if created and not created.startswith(("#", "page:")):
            assert created in every_argument, endpoint
        if created.startswith("page:"):
            assert audited.shown, f"{endpoint}: a record on a page needs the page's name"


def test_every_client_page_is_recorded(app):
    """Whatever has a client in its URL shows or changes that client's record."""
    for rule in app.url_map.iter_rules():
        if "client_id" in rule.arguments:
            for method in (rule.methods or set()) - IGNORED_METHODS:
                assert (rule.endpoint, method) in AUDITED, (rule.endpoint, method)
