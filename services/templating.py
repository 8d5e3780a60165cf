"""Rendering what tenants write (environment and e-mail templates) with hard limits on size, steps and time.

Jinja's sandbox keeps a template away from Python's internals, but not from the machine: `"x" * 10**9`, nested
loops over `range(100000)`, a macro that calls itself twice per level or `"%0999999999d" % 1` each stall a worker
or eat its memory. Here every place where work or size can grow is counted against a budget that belongs to one
render: loop iterations (every `for` iterates through a counting wrapper), calls (macros, methods, filters),
operators that build strings or lists, and the output itself. Only an allow-list of filters and methods is
available. A template that exceeds a limit is refused with a message naming the limit, at save and at use.

`check()` is what the console and the branding editor call before storing a template; `render()` is what the
job consumer calls when it builds an instance's environment or an e-mail.
"""

from __future__ import annotations

import contextvars
import functools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.filters import FILTERS
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError


@dataclass(frozen=True)
class Limits:
    max_output: int = 64 * 1024  # characters of output, and of any one string or list built on the way
    max_steps: int = 20_000  # loop iterations, calls and intercepted operators together
    max_seconds: float = 0.25
    max_source: int = 20_000  # characters of template


class TemplateRefused(ValueError):
    """The template cannot be used; the message says why, for the person who wrote it."""


class LimitExceeded(SecurityError):
    pass


@dataclass
class _Budget:
    limits: Limits
    deadline: float
    steps: int = 0

    def tick(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > self.limits.max_steps:
            raise LimitExceeded(f"it does more than {self.limits.max_steps:,} steps (loops, calls)")
        if self.steps % 64 == 0 and time.monotonic() > self.deadline:
            raise LimitExceeded(f"it takes longer than {self.limits.max_seconds:g} s to render")

    def size(self, value: Any) -> Any:
        if isinstance(value, str | list | tuple | dict) and len(value) > self.limits.max_output:
            raise LimitExceeded(f"it builds a value longer than {self.limits.max_output:,} characters")
        return value


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("template_budget", default=None)


def _current() -> _Budget:
    budget = _budget.get()
    if budget is None:  # a template object used outside render(): refuse rather than run unlimited
        raise LimitExceeded("templates only render through services.templating")
    return budget


def _iterate(iterable: Iterable[Any]) -> Iterator[Any]:
    """What every `for` loop iterates through (see _LimitedEnvironment._parse)."""
    budget = _current()
    for item in iterable:
        budget.tick()
        yield item


def _range(*args: int) -> Iterator[int]:
    budget = _current()
    for number in range(*args):
        budget.tick()
        yield number


# Filters that cannot grow their input beyond what the budget sees, plus sized versions of the ones that can.
_SAFE_FILTERS = (
    "abs",
    "attr",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "groupby",
    "int",
    "items",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "reverse",
    "round",
    "select",
    "selectattr",
    "sort",
    "string",
    "striptags",
    "sum",
    "title",
    "tojson",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
    "wordwrap",
    "filesizeformat",
    "replace",
    "center",
    "indent",
    "batch",
    "slice",
)
_GROWING = {"replace", "center", "indent", "wordwrap", "batch", "slice", "join"}


def _limited_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps jinja's pass_context / pass_environment marker
    def run(*args: Any, **kwargs: Any) -> Any:
        budget = _current()
        budget.tick()
        for value in (*args, *kwargs.values()):
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and name in _GROWING
                and value > budget.limits.max_output
            ):
                raise LimitExceeded(f"the {name} filter was asked for more than {budget.limits.max_output:,}")
        if name == "replace" and len(args) >= 3 and isinstance(args[0], str):
            text, old, new = str(args[0]), str(args[1]), str(args[2])
            grown = len(text) + (text.count(old) if old else len(text) + 1) * max(0, len(new) - len(old))
            if grown > budget.limits.max_output:
                raise LimitExceeded(f"it builds a value longer than {budget.limits.max_output:,} characters")
        result = function(*args, **kwargs)
        return budget.size(result)

    return run


# Methods a template may call on strings and dicts; anything else (format, ljust, zfill, ...) is refused.
_STR_METHODS = frozenset(
    {
        "upper",
        "lower",
        "title",
        "capitalize",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "split",
        "splitlines",
        "isdigit",
        "isalpha",
        "isalnum",
    }
)
_DICT_METHODS = frozenset({"get", "items", "keys", "values"})


class _LimitedEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%", "+", "//"})

    def __init__(self, autoescape: bool) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=autoescape, keep_trailing_newline=True)
        self.globals = {"range": _range, "dict": dict, "_iterate": _iterate}
        self.filters = {name: _limited_filter(name, FILTERS[name]) for name in _SAFE_FILTERS}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            if loop.recursive:
                raise TemplateRefused(f"Line {loop.lineno}: recursive loops are not available in templates.")
            loop.iter = nodes.Call(nodes.Name("_iterate", "load"), [loop.iter], [], None, None, lineno=loop.lineno)
        for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            raise TemplateRefused(f"Line {node.lineno}: templates cannot include or import other templates.")
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = _current()
        budget.tick()
        if operator == "%" and isinstance(left, str):
            raise SecurityError("%-formatting of text is not available; use ~ to join text")
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise LimitExceeded("powers above 64 are not available")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > budget.limits.max_output
                ):
                    raise LimitExceeded(f"it builds a value longer than {budget.limits.max_output:,} characters")
        return budget.size(super().call_binop(context, operator, left, right))

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        budget = _current()
        budget.tick()
        for value in (*args, *kwargs.values()):
            budget.size(value)
        owner = getattr(obj, "self__", None)
        allowed = (
            isinstance(obj, (Macro, LoopContext))
            or obj in (_iterate, _range, dict)
            or (isinstance(owner, str) and obj.__name__ in _STR_METHODS)
            or (isinstance(owner, dict) and obj.__name__ in _DICT_METHODS)
        )
        if not allowed:
            raise SecurityError(
                f"calling {getattr(obj, '__name__', type(obj).__name__)!r} is not available in templates"
            )
        return budget.size(super().call(context, obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _current().tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _current().tick()
        return super().getitem(obj, argument)


_environments = {True: _LimitedEnvironment(autoescape=True), False: _LimitedEnvironment(autoescape=False)}


@functools.lru_cache(maxsize=256)
def _compiled(source: str, html: bool) -> Template:
    """Compiled once per source: an instance's environment is rendered for every reconciliation pass, and
    compiling took most of the time (Jinja's templates render safely from many threads)."""
    return _environments[html].from_string(source)


def render(source: str, context: dict[str, Any], *, html: bool = False, limits: Limits = Limits()) -> str:
    """Render a tenant's template within `limits`; TemplateRefused says what was wrong (with the line)."""
    if len(source) > limits.max_source:
        raise TemplateRefused(f"The template is longer than {limits.max_source:,} characters.")
    budget = _Budget(limits=limits, deadline=time.monotonic() + limits.max_seconds)
    token = _budget.set(budget)
    try:
        template = _compiled(source, html)
        produced, size = [], 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > limits.max_output:
                raise LimitExceeded(f"its output is longer than {limits.max_output:,} characters")
            produced.append(chunk)
            budget.tick()
        return "".join(produced)
    except TemplateRefused:
        raise
    except LimitExceeded as exc:
        raise TemplateRefused(f"The template was stopped: {exc}.") from None
    except TemplateError as exc:
        lineno = getattr(exc, "lineno", None)  # syntax errors carry one, runtime errors do not
        line = f"Line {lineno}: " if lineno else ""
        raise TemplateRefused(f"{line}{exc.message or exc}") from None
    except RecursionError:
        raise TemplateRefused("The template calls itself too deeply.") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise TemplateRefused(f"The template failed: {exc}") from None
    finally:
        _budget.reset(token)


def check(source: str, sample: dict[str, Any], *, html: bool = False, limits: Limits = Limits()) -> str:
    """Render with sample values at save time: what would fail later is refused now, with the same limits."""
    return render(source, sample, html=html, limits=limits)
