"""A small, generic workflow engine: states, stages and transitions declared as data.

The engine knows nothing about Flask or the database. A workflow definition is a list of
:class:`State`, :class:`Stage` and :class:`Transition` objects plus named guards and
validators; :class:`Workflow` checks the definition when it is built (unknown names,
unreachable states, dead ends) and answers two questions for the operations layer:

* :meth:`Workflow.available_transitions` — which triggers an actor may fire on a case now,
  and for every other one the reason it is refused;
* :meth:`Workflow.check` — the same for one trigger, raising :class:`TransitionRefused`.

Messages are Vietnamese source strings with ``%(name)s`` placeholders; the app translates
them (they are gettext msgids) and fills the placeholders.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Iterable, Mapping, Protocol

from .calendar import DayUnit


def N_(message: str) -> str:
    """Mark a string for translation without translating it (the app translates at display)."""
    return message


class RefusalKind(str, Enum):
    """Why a transition is unavailable; the API maps these to HTTP statuses."""

    ROLE = "role"  # the actor's role may never fire it (403)
    PERMISSION = "permission"  # a guard about who the actor is, e.g. another agency (403)
    STATE = "state"  # not from the current state (409)
    CONDITION = "condition"  # a guard or validator about the case (409)


@dataclass(frozen=True)
class Refusal:
    """A reason a transition is refused: machine code, kind and a translatable message."""

    kind: RefusalKind
    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


class TransitionRefused(Exception):
    """Raised by :meth:`Workflow.check` when a trigger may not be fired."""

    def __init__(self, trigger: str, refusal: Refusal):
        super().__init__(f"{trigger}: {refusal.code}")
        self.trigger = trigger
        self.refusal = refusal


class DefinitionError(Exception):
    """Raised when a workflow definition is inconsistent; lists every problem found."""

    def __init__(self, problems: list[str]):
        super().__init__("Invalid workflow definition:\n- " + "\n- ".join(problems))
        self.problems = problems


class Actor(Protocol):
    """What the engine needs to know about whoever acts."""

    role: str
    user_id: int | None
    agency_id: int | None


@dataclass(frozen=True)
class DeadlineSpec:
    """How the due date of a stage visit is computed.

    ``setting`` names the per-province clock setting holding the number of days
    (the legal default is ``default_days``); ``unit_setting`` optionally names the
    setting that switches between calendar and working days. ``anchor`` is
    ``"entry"`` (the day the stage is entered) or ``"received"`` (the case's receipt:
    the submitter's answer clock keeps running across returns).
    """

    setting: str
    default_days: int
    unit: DayUnit = DayUnit.WORKING
    unit_setting: str | None = None
    anchor: str = "entry"


@dataclass(frozen=True)
class Stage:
    """A stage of handling: a group of states sharing one clock and one plan task."""

    key: str
    label: str
    deadline: DeadlineSpec | None
    plan_task: str | None  # key of the plan-task binding (see pakn.models.plan)
    responsible: str  # "office" or "agency": who is responsible while the case is here


@dataclass(frozen=True)
class State:
    """A state of the case; ``stage`` is None for states without a clock."""

    key: str
    label: str
    stage: str | None = None
    final: bool = False
    initial: bool = False


Guard = Callable[[Any, Actor, Mapping[str, Any]], bool]
Validator = Callable[[Any, Actor, Mapping[str, Any], Mapping[str, Any]], Refusal | None]


@dataclass(frozen=True)
class GuardSpec:
    """A named guard: a predicate and the refusal given when it is false."""

    name: str
    test: Guard
    refusal: Refusal


@dataclass(frozen=True)
class Transition:
    """One trigger: from which states, to which state, for whom, under which conditions.

    ``target`` None means the case stays in its state (a record such as a progress
    update). ``schema`` is a marshmallow schema class for the payload. ``outbox`` lists
    the message kinds written to the outbox when the transition happens.
    """

    trigger: str
    label: str
    sources: tuple[str, ...]
    target: str | None
    roles: tuple[str, ...]
    schema: type | None = None
    guards: tuple[str, ...] = ()
    validators: tuple[str, ...] = ()
    outbox: tuple[str, ...] = ()
    restart_stage: bool = False  # open a new stage visit even when staying in the same stage
    creates: bool = False  # the trigger creates the case (its source is the initial pseudo-state)


@dataclass(frozen=True)
class Availability:
    """The answer for one trigger: allowed, or refused with a reason."""

    transition: Transition
    refusal: Refusal | None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


class Workflow:
    """A checked workflow definition and the questions the operations layer asks it."""

    def __init__(
        self,
        name: str,
        states: Iterable[State],
        stages: Iterable[Stage],
        transitions: Iterable[Transition],
        guards: Iterable[GuardSpec] = (),
        validators: Mapping[str, Validator] | None = None,
        roles: Iterable[str] = (),
    ):
        self.name = name
        self.states: dict[str, State] = {s.key: s for s in states}
        self.stages: dict[str, Stage] = {s.key: s for s in stages}
        self.transitions: dict[str, Transition] = {}
        self.guards: dict[str, GuardSpec] = {g.name: g for g in guards}
        self.validators: dict[str, Validator] = dict(validators or {})
        self.roles = tuple(roles)
        problems: list[str] = []
        for t in transitions:
            if t.trigger in self.transitions:
                problems.append(f"duplicate trigger {t.trigger!r}")
            self.transitions[t.trigger] = t
        problems += self._problems()
        if problems:
            raise DefinitionError(problems)

    # -- definition checks -------------------------------------------------------------
    def _problems(self) -> list[str]:
        problems: list[str] = []
        initial = [s.key for s in self.states.values() if s.initial]
        if len(initial) != 1:
            problems.append(f"exactly one initial state expected, found {initial}")
        for s in self.states.values():
            if s.stage is not None and s.stage not in self.stages:
                problems.append(f"state {s.key!r}: unknown stage {s.stage!r}")
        for t in self.transitions.values():
            where = f"transition {t.trigger!r}"
            if not t.sources and not t.creates:
                problems.append(f"{where}: no source state")
            if t.creates and t.sources:
                problems.append(f"{where}: a creating transition has no source state")
            for src in t.sources:
                if src not in self.states:
                    problems.append(f"{where}: unknown source state {src!r}")
                elif self.states[src].final:
                    problems.append(f"{where}: leaves the final state {src!r}")
            if t.target is not None and t.target not in self.states:
                problems.append(f"{where}: unknown target state {t.target!r}")
            if t.target is None and t.creates:
                problems.append(f"{where}: a creating transition needs a target")
            if not t.roles:
                problems.append(f"{where}: no role may fire it")
            for role in t.roles:
                if self.roles and role not in self.roles:
                    problems.append(f"{where}: unknown role {role!r}")
            for g in t.guards:
                if g not in self.guards:
                    problems.append(f"{where}: unknown guard {g!r}")
            for v in t.validators:
                if v not in self.validators:
                    problems.append(f"{where}: unknown validator {v!r}")
        creating = [t for t in self.transitions.values() if t.creates]
        if not creating:
            problems.append("no transition creates a case")
        for t in creating:
            if t.target and not self.states.get(t.target, State("", "")).initial:
                problems.append(f"transition {t.trigger!r} creates the case in a non-initial state")
        # Reachability from the initial state, and a way out of every non-final state.
        reachable = self._reachable(initial)
        for s in self.states.values():
            if s.key not in reachable:
                problems.append(f"state {s.key!r} is unreachable")
            moves = [
                t for t in self.transitions.values()
                if s.key in t.sources and t.target not in (None, s.key)
            ]
            if not s.final and not moves:
                problems.append(f"state {s.key!r} is a dead end (not final, no way out)")
        for s in self.states.values():
            if not s.final and s.key in reachable and not self._reaches_final(s.key):
                problems.append(f"state {s.key!r} can never reach a final state")
        return problems

    def _reachable(self, start: list[str]) -> set[str]:
        seen, todo = set(start), deque(start)
        while todo:
            cur = todo.popleft()
            for t in self.transitions.values():
                if cur in t.sources and t.target in self.states and t.target not in seen:
                    seen.add(t.target)
                    todo.append(t.target)
        return seen

    def _reaches_final(self, key: str) -> bool:
        return any(self.states[k].final for k in self._reachable([key]))

    # -- questions ---------------------------------------------------------------------
    @property
    def initial_state(self) -> State:
        return next(s for s in self.states.values() if s.initial)

    def stage_of(self, state: str | None) -> Stage | None:
        """The stage a state belongs to, or None for states without a clock."""
        if state is None:
            return None
        key = self.states[state].stage
        return self.stages[key] if key else None

    def transition(self, trigger: str) -> Transition:
        """The transition named ``trigger``; KeyError if the workflow has none."""
        return self.transitions[trigger]

    def refusal(
        self, case: Any, trigger: str, actor: Actor, payload: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Refusal | None:
        """Why ``actor`` may not fire ``trigger`` on ``case`` now, or None if they may.

        Checks, in order: the role, the current state, the guards, and — when a payload
        is given — the validators. ``case`` is None for a creating transition.
        """
        t = self.transitions[trigger]
        context = context or {}
        if actor.role not in t.roles:
            return Refusal(
                RefusalKind.ROLE, "role_not_allowed",
                N_("Vai trò của bạn không được thực hiện thao tác «%(action)s»."),
                {"action": t.label},
            )
        state = getattr(case, "state", None) if case is not None else None
        if t.creates:
            if case is not None:
                return Refusal(RefusalKind.STATE, "already_exists", N_("Hồ sơ đã tồn tại."))
        elif state not in t.sources:
            label = self.states[state].label if state in self.states else state
            return Refusal(
                RefusalKind.STATE, "wrong_state",
                N_("Không thể thực hiện «%(action)s» khi hồ sơ đang ở trạng thái «%(state)s»."),
                {"action": t.label, "state": label},
            )
        for name in t.guards:
            g = self.guards[name]
            if not g.test(case, actor, context):
                return g.refusal
        if payload is not None:
            for name in t.validators:
                refusal = self.validators[name](case, actor, payload, context)
                if refusal is not None:
                    return refusal
        return None

    def check(self, case: Any, trigger: str, actor: Actor, payload: Mapping[str, Any] | None = None,
              context: Mapping[str, Any] | None = None) -> Transition:
        """Return the transition if it may be fired; raise :class:`TransitionRefused` otherwise.

        An unknown trigger is refused as not allowed in this state (the caller decides
        whether that is a 404).
        """
        if trigger not in self.transitions:
            raise TransitionRefused(trigger, Refusal(
                RefusalKind.STATE, "unknown_trigger", N_("Thao tác không tồn tại.")))
        refusal = self.refusal(case, trigger, actor, payload, context)
        if refusal is not None:
            raise TransitionRefused(trigger, refusal)
        return self.transitions[trigger]

    def available_transitions(self, case: Any, actor: Actor,
                              context: Mapping[str, Any] | None = None) -> list[Availability]:
        """Every non-creating transition with, for those unavailable, the reason why.

        Allowed ones come first, in definition order; validators are not run (they need
        a payload) — they can still refuse when the trigger is fired.
        """
        result = [
            Availability(t, self.refusal(case, t.trigger, actor, None, context))
            for t in self.transitions.values() if not t.creates
        ]
        return sorted(result, key=lambda a: not a.allowed)

    # -- documentation -----------------------------------------------------------------
    def as_markdown(self) -> str:
        """The definition as Markdown tables: states, then transitions."""
        lines = [f"# Workflow `{self.name}`", "", "## States", "",
                 "| state | label | stage | clock | plan task |", "|---|---|---|---|---|"]
        for s in self.states.values():
            stage = self.stages.get(s.stage) if s.stage else None
            clock = ""
            if stage and stage.deadline:
                d = stage.deadline
                unit = "working days" if d.unit is DayUnit.WORKING else "days"
                if d.unit_setting:
                    unit += f" (unit: `{d.unit_setting}`)"
                clock = f"`{d.setting}` = {d.default_days} {unit} from {d.anchor}"
            flags = " (initial)" if s.initial else " (final)" if s.final else ""
            lines.append(
                f"| `{s.key}`{flags} | {s.label} | {stage.label if stage else ''} | {clock} "
                f"| {stage.plan_task or '' if stage else ''} |")
        lines += ["", "## Transitions", "",
                  "| trigger | label | from | to | roles | guards | validators | outbox |",
                  "|---|---|---|---|---|---|---|---|"]
        for t in self.transitions.values():
            src = "(new case)" if t.creates else ", ".join(f"`{s}`" for s in t.sources)
            dst = f"`{t.target}`" if t.target else "(same state)"
            lines.append(
                f"| `{t.trigger}` | {t.label} | {src} | {dst} | {', '.join(t.roles)} "
                f"| {', '.join(t.guards)} | {', '.join(t.validators)} | {', '.join(t.outbox)} |")
        return "\n".join(lines) + "\n"
