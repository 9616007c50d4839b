"""The workflow definition: load-time checks, the printed table, and who may do what when."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from pakn.extensions import db
from pakn.models import Feedback
from pakn.operations import SubmitterActor
from workflows.calendar import DayUnit
from workflows.engine import (
    DeadlineSpec, DefinitionError, GuardSpec, Refusal, RefusalKind, Stage, State, Transition, Workflow,
)
from workflows.pakn import WORKFLOW

# -- load-time checks ---------------------------------------------------------------------
STAGE = Stage("s", "S", DeadlineSpec("x_days", 1, DayUnit.WORKING), None, "office")


def build(states=None, transitions=None, guards=(), validators=None):
    states = states or [State("new", "Mới", stage="s", initial=True), State("done", "Xong", final=True)]
    transitions = transitions or [
        Transition("create", "Tạo", (), "new", ("clerk",), creates=True),
        Transition("finish", "Xong", ("new",), "done", ("clerk",)),
    ]
    return Workflow("t", states, [STAGE], transitions, guards, validators, roles=["clerk"])


def test_a_sound_definition_loads():
    wf = build()
    assert wf.initial_state.key == "new"


@pytest.mark.parametrize("states, transitions, expected", [
    (None, [Transition("create", "Tạo", (), "new", ("clerk",), creates=True),
            Transition("finish", "Xong", ("new",), "done", ("clerk",), guards=("no_such_guard",))],
     "unknown guard 'no_such_guard'"),
    (None, [Transition("create", "Tạo", (), "new", ("clerk",), creates=True),
            Transition("finish", "Xong", ("new",), "done", ("clerk",), validators=("nope",))],
     "unknown validator 'nope'"),
    ([State("new", "Mới", initial=True), State("done", "Xong", final=True), State("lost", "Lạc", final=True)],
     None, "state 'lost' is unreachable"),
    ([State("new", "Mới", initial=True), State("stuck", "Kẹt"), State("done", "Xong", final=True)],
     [Transition("create", "Tạo", (), "new", ("clerk",), creates=True),
      Transition("a", "A", ("new",), "stuck", ("clerk",)),
      Transition("b", "B", ("new",), "done", ("clerk",))],
     "state 'stuck' is a dead end"),
    (None, [Transition("create", "Tạo", (), "new", ("clerk",), creates=True),
            Transition("finish", "Xong", ("new",), "done", ("clerk",)),
            Transition("reopen", "Mở lại", ("done",), "new", ("clerk",))],
     "leaves the final state 'done'"),
    (None, [Transition("create", "Tạo", (), "new", ("clerk",), creates=True),
            Transition("finish", "Xong", ("new",), "done", ("ghost",))],
     "unknown role 'ghost'"),
    (None, [Transition("create", "Tạo", (), "new", ("clerk",), creates=True),
            Transition("finish", "Xong", ("new",), "nowhere", ("clerk",))],
     "unknown target state 'nowhere'"),
    ([State("new", "Mới", initial=True), State("a", "A"), State("b", "B"), State("done", "Xong", final=True)],
     [Transition("create", "Tạo", (), "new", ("clerk",), creates=True),
      Transition("go", "Đi", ("new",), "a", ("clerk",)), Transition("ping", "P", ("a",), "b", ("clerk",)),
      Transition("pong", "P", ("b",), "a", ("clerk",)), Transition("end", "E", ("new",), "done", ("clerk",))],
     "state 'a' can never reach a final state"),
    (None, [Transition("create", "Tạo", (), "new", ("clerk",), creates=True),
            Transition("finish", "Xong", ("new",), "done", ("clerk",)),
            Transition("finish", "Lại", ("new",), "done", ("clerk",))],
     "duplicate trigger 'finish'"),
])
def test_an_inconsistent_definition_is_refused_at_load(states, transitions, expected):
    with pytest.raises(DefinitionError) as err:
        build(states, transitions)
    assert any(expected in problem for problem in err.value.problems), err.value.problems


def test_a_guard_hides_an_action_with_its_own_reason():
    refusal = Refusal(RefusalKind.CONDITION, "not_today", "Hôm nay không được.")
    wf = build(
        transitions=[Transition("create", "Tạo", (), "new", ("clerk",), creates=True),
                     Transition("finish", "Xong", ("new",), "done", ("clerk",), guards=("never",))],
        guards=[GuardSpec("never", lambda case, actor, ctx: False, refusal)])

    class Case:
        state = "new"

    class Clerk:
        role, user_id, agency_id = "clerk", 1, None

    [finish] = wf.available_transitions(Case(), Clerk())
    assert not finish.allowed and finish.refusal.code == "not_today"


def test_the_pakn_definition_declares_every_path_of_the_product_decisions():
    expected = {
        "receive", "receive_on_behalf", "request_info", "supply_info", "reject", "merge", "handle_in_office",
        "forward", "accept", "return_not_competent", "post_progress", "draft_answer", "approve_answer",
        "send_back_draft", "submit_answer", "accept_answer", "return_answer", "notify", "publish", "close",
        "withdraw", "record_extension", "agency_request_info", "supply_info_to_agency",
    }
    assert set(WORKFLOW.transitions) == expected
    assert {s.key for s in WORKFLOW.states.values() if s.final} == {"closed", "rejected", "merged", "withdrawn"}


def test_the_definition_prints_as_a_markdown_table():
    table = WORKFLOW.as_markdown()
    assert "| trigger | label | from | to |" in table
    for trigger in WORKFLOW.transitions:
        assert f"| `{trigger}` |" in table
    assert "`forward_days` = 5 working days from entry" in table
    assert "`answer_days` = 20 days (unit: `answer_day_unit`) from received" in table


# -- who may do what, in which state ------------------------------------------------------
# (state of the case handled by agency A, who acts, trigger) → None if allowed, else the refusal code.
TABLE = [
    ("received", "clerk", "forward", None),
    ("received", "lead", "reject", None),
    ("received", "clerk", "merge", None),
    ("received", "clerk", "handle_in_office", None),
    ("received", "clerk", "request_info", None),
    ("received", "officer_a", "forward", "role_not_allowed"),
    ("received", "admin", "forward", "role_not_allowed"),
    ("received", "clerk", "accept", "wrong_state"),
    ("received", "clerk", "publish", "wrong_state"),
    ("received", "own_submitter", "withdraw", None),
    ("received", "other_submitter", "withdraw", "not_own_case"),
    ("received", "own_submitter", "forward", "role_not_allowed"),
    ("needs_info", "own_submitter", "supply_info", None),
    ("needs_info", "other_submitter", "supply_info", "not_own_case"),
    ("needs_info", "clerk", "forward", "wrong_state"),
    ("needs_info", "clerk", "reject", None),
    ("forwarded", "officer_a", "accept", None),
    ("forwarded", "lead_a", "return_not_competent", None),
    ("forwarded", "officer_b", "accept", "other_agency"),
    ("forwarded", "clerk", "accept", "other_agency"),
    ("forwarded", "clerk", "forward", "wrong_state"),
    ("forwarded", "officer_a", "post_progress", None),
    ("forwarded", "lead", "record_extension", None),
    ("forwarded", "lead_a", "record_extension", None),
    ("forwarded", "lead_b", "record_extension", "other_agency"),
    ("forwarded", "officer_a", "record_extension", "role_not_allowed"),
    ("in_progress", "officer_a", "draft_answer", None),
    ("in_progress", "officer_b", "draft_answer", "other_agency"),
    ("in_progress", "officer_a", "submit_answer", "wrong_state"),
    ("draft_pending_approval", "lead_a", "approve_answer", None),
    ("draft_pending_approval", "lead_a", "send_back_draft", None),
    ("draft_pending_approval", "officer_a", "approve_answer", "role_not_allowed"),
    ("draft_pending_approval", "lead_b", "approve_answer", "other_agency"),
    ("answer_approved", "officer_a", "submit_answer", None),
    ("answer_approved", "own_submitter", "withdraw", None),
    ("answered", "clerk", "accept_answer", None),
    ("answered", "lead", "return_answer", None),
    ("answered", "officer_a", "accept_answer", "role_not_allowed"),
    ("answered", "own_submitter", "withdraw", "wrong_state"),
    ("answered", "clerk", "withdraw", "wrong_state"),
    ("answer_accepted", "clerk", "notify", None),
    ("answer_accepted", "clerk", "publish", "wrong_state"),
    ("notified", "clerk", "publish", None),
    ("published", "clerk", "close", None),
    ("published", "clerk", "publish", "wrong_state"),
    ("closed", "clerk", "close", "wrong_state"),
    ("rejected", "clerk", "forward", "wrong_state"),
    ("merged", "clerk", "forward", "wrong_state"),
    ("withdrawn", "own_submitter", "supply_info", "wrong_state"),
    ("returned", "clerk", "forward", None),
    ("returned", "clerk", "handle_in_office", None),
    ("returned", "officer_a", "accept", "wrong_state"),
]


@pytest.mark.parametrize("state, who, trigger, expected", TABLE,
                         ids=[f"{s}-{w}-{t}" for s, w, t, _ in TABLE])
def test_who_may_fire_what_in_which_state(app, world, make_case, state, who, trigger, expected):
    code, _ = make_case(state)
    with app.app_context():
        case = db.session.scalar(select(Feedback).where(Feedback.code == code))
        if who == "own_submitter":
            actor = SubmitterActor(case_id=case.id)
        elif who == "other_submitter":
            actor = SubmitterActor(case_id=case.id + 1000)
        else:
            actor = world.user(who)
        answers = {a.transition.trigger: a for a in WORKFLOW.available_transitions(case, actor)}
        answer = answers[trigger]
        if expected is None:
            assert answer.allowed, answer.refusal
        else:
            assert not answer.allowed
            assert answer.refusal.code == expected
            assert answer.refusal.message  # a reason a person can read
