"""The questionnaire forms show the validated instruments' items in their published wording."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from clinic import create_app
from clinic.domain.outcomes import KoosJrItem, LefsItem
from clinic.extensions import db
from tests import factories
from tests.conftest import ClinicTestClient, empty_postgres_tables, make_test_config
from tests.domain.test_outcomes import (
    KOOS_JR_ANSWERS,
    KOOS_JR_FUNCTION_STEM,
    KOOS_JR_PAIN_STEM,
    KOOS_JR_PUBLISHED,
    KOOS_JR_STIFFNESS_STEM,
    LEFS_ANSWERS,
    LEFS_INSTRUCTION,
    LEFS_PUBLISHED,
    LEFS_STEM,
)


@dataclass(frozen=True)
class Forms:
    """The two questionnaire pages as a signed-in therapist gets them."""

    koos_jr: str
    lefs: str


@pytest.fixture(scope="module")
def forms(
    backend: str, database_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Forms]:
    """Fetch both forms once: every test here only reads them."""
    if backend == "sqlite":
        copy = tmp_path_factory.mktemp("wording") / "clinic.sqlite3"
        shutil.copyfile(database_template, copy)
        url = f"sqlite:///{copy}"
    else:
        url = database_template
        empty_postgres_tables(url)
    app: Flask = create_app(make_test_config(url))
    app.test_client_class = ClinicTestClient
    world = factories.make_world(app)
    client = app.test_client()
    factories.sign_in(app, client, world.a.therapist_id)
    base = f"/clients/{world.a.client_id}/progress"
    pages = []
    for path in ("koos-jr/new", "lefs/new"):
        response = client.get(f"{base}/{path}")
        assert response.status_code == 200
        pages.append(response.get_data(as_text=True))
    yield Forms(*pages)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def legend(page: str, code: str) -> str:
    """Return the question text of an item's fieldset, as the reader sees it."""
    fieldset = page.split(f'name="item-{code}"', 1)[0].rsplit("<fieldset", 1)[1]
    text = fieldset.split("<legend", 1)[1].split(">", 1)[1].split("<span", 1)[0]
    return html.unescape(text).strip()


def answer_labels(page: str, code: str) -> list[str]:
    """Return the answer texts offered for one item, in order."""
    fieldset = page.split(f'name="item-{code}"', 1)[1].split("</fieldset>", 1)[0]
    before = page.split(f'name="item-{code}"', 1)[0].rsplit("<fieldset", 1)[1]
    found = re.findall(r'<label class="radio">.*?<span>(.*?)</span></label>', before + fieldset)
    return [html.unescape(text) for text in found]


def stems(page: str) -> list[str]:
    return [html.unescape(p) for p in re.findall(r'class="question-group__stem">(.*?)</p>', page)]


@pytest.mark.parametrize(("item", "published"), list(KOOS_JR_PUBLISHED.items()))
def test_the_koos_jr_form_shows_each_published_question(
    forms: Forms, item: KoosJrItem, published: str
) -> None:
    assert legend(forms.koos_jr, item.value) == published
    assert answer_labels(forms.koos_jr, item.value) == list(KOOS_JR_ANSWERS)


@pytest.mark.parametrize(("item", "published"), list(LEFS_PUBLISHED.items()))
def test_the_lefs_form_shows_each_published_activity(
    forms: Forms, item: LefsItem, published: str
) -> None:
    assert legend(forms.lefs, item.value) == published
    # The published form numbers its columns 0-4 under the labels.
    assert answer_labels(forms.lefs, item.value) == [
        f"{value}: {label}" for value, label in enumerate(LEFS_ANSWERS)
    ]


def test_the_koos_jr_stems_stand_above_their_questions_in_order(forms: Forms) -> None:
    page = forms.koos_jr
    assert stems(page) == [KOOS_JR_STIFFNESS_STEM, KOOS_JR_PAIN_STEM, KOOS_JR_FUNCTION_STEM]
    order = [page.index(KOOS_JR_STIFFNESS_STEM), page.index('name="item-morning_stiffness"'),
             page.index(KOOS_JR_PAIN_STEM), page.index('name="item-pain_twisting"'),
             page.index('name="item-pain_standing"'), page.index(KOOS_JR_FUNCTION_STEM),
             page.index('name="item-difficulty_rising"')]  # fmt: skip
    assert order == sorted(order)


def test_the_lefs_instruction_and_question_stand_above_the_activities(forms: Forms) -> None:
    page = forms.lefs
    assert stems(page) == [LEFS_INSTRUCTION, LEFS_STEM]
    assert page.index(LEFS_STEM) < page.index('name="item-usual_work"')


@pytest.mark.parametrize(("page", "starts"), [("koos_jr", ["1", "2", "6"]), ("lefs", ["1"])])
def test_question_numbers_run_on_across_the_groups(
    forms: Forms, page: str, starts: list[str]
) -> None:
    assert re.findall(r'<ol class="items" start="(\d+)">', getattr(forms, page)) == starts
