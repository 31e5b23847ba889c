"""Restricted execution of BPMN/DMN scripts and expressions.

Diagrams are uploaded by administrators, so script tasks, gateway conditions and DMN
expressions are untrusted code.  Instead of SpiffWorkflow's plain ``exec``/``eval`` we

* compile with RestrictedPython plus a stricter policy (no imports, classes, generators
  or ``with``; no names/attributes starting with ``_``), so ``check_script`` can report
  violations without running anything;
* run with few builtins and RestrictedPython's guards (``safer_getattr``, dict/list-only
  write guard, guarded unpacking) plus size limits on ``**``, ``*`` and ``<<``;
* enforce a wall-clock time limit by instrumentation: a deadline check is inserted at the
  top of every ``while`` body, function and lambda, and every ``for``/comprehension (and
  every long ``range``, so ``sum(range(10**12))`` stops too) iterates through a checking
  iterator.  This works in any thread, needs no signals and leaves ``sys.settrace``
  (coverage, debuggers) alone; a trace function cannot stop ``while True: pass`` on
  CPython 3.11, which emits no line events for that loop.

Known limitations: memory is not limited (``'x' * 10**7`` is allowed; ``str.replace`` or
``ljust`` can still allocate a lot) and one long C call between two checks cannot be
interrupted.  Give the service a memory limit (e.g. RLIMIT_AS) if that matters.
"""

from __future__ import annotations

import ast
import json
import operator
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from types import CodeType, FrameType, ModuleType, TracebackType
from typing import Any

from RestrictedPython import (
    PrintCollector,
    RestrictingNodeTransformer,
    compile_restricted_eval,
    compile_restricted_exec,
    safe_builtins,
)
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr_raise,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException

from xueji.errors import XuejiError

MAX_INT_BITS = 1_000_000  # largest int result of ``*``, ``**`` and ``<<``
MAX_SEQUENCE_LENGTH = 10_000_000  # largest result of ``sequence * n``
_LAZY_RANGE_LENGTH = 100_000  # longer ranges iterate with deadline checks


class ScriptTimeout(Exception):
    """Raised when a script or expression exceeds its time limit."""


class ScriptRestrictionError(Exception):
    """Raised when a script uses a construct, name or value that is not allowed."""


def _call(name: str, args: list, ref: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    return ast.fix_missing_locations(ast.copy_location(call, ref))


_GUARDED_BINOPS = {ast.Pow: "_pow_", ast.Mult: "_mul_", ast.LShift: "_lshift_"}
_REFUSED_NODES = {
    ast.Import: "import statements",
    ast.ImportFrom: "import statements",
    ast.ClassDef: "class definitions",
    ast.Yield: "generators (yield)",
    ast.YieldFrom: "generators (yield)",
    ast.With: "with statements",
}


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, stricter and instrumented with deadline checks."""

    def visit(self, node):
        refused = _REFUSED_NODES.get(type(node))
        if refused:
            self.error(node, f"{refused} are not allowed in scripts.")
            return node
        return super().visit(node)

    def _with_tick(self, node):
        node.body.insert(0, ast.copy_location(ast.Expr(_call("_tick_", [], node)), node))
        return node

    def visit_While(self, node):
        return self._with_tick(super().visit_While(node))

    def visit_FunctionDef(self, node):
        return self._with_tick(super().visit_FunctionDef(node))

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        # ``lambda: body`` -> ``lambda: _tick_() or body`` (_tick_ returns None)
        tick = _call("_tick_", [], node.body)
        node.body = ast.copy_location(ast.BoolOp(op=ast.Or(), values=[tick, node.body]), node.body)
        return node

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        name = _GUARDED_BINOPS.get(type(node.op))
        return node if name is None else _call(name, [node.left, node.right], node)


def _restricted_compile(source: str, mode: str):
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    return compiler(
        source.strip() if mode == "eval" else source, filename="<string>", policy=_Policy
    )


@lru_cache(maxsize=1024)
def _compile(source: str, mode: str) -> CodeType:
    result = _restricted_compile(source, mode)
    if result.errors:
        raise ScriptRestrictionError("Script refused: " + " ".join(result.errors))
    return result.code


def check_script(source: str, mode: str = "exec") -> list[str]:
    """Compile source under the restrictions and return readable problems (empty if none).

    mode is 'exec' for scripts and 'eval' for conditions and expressions. Never executes anything.
    """
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    try:
        result = _restricted_compile(source, mode)
    except (SyntaxError, ValueError, TypeError) as exc:  # e.g. 'break' outside loop, NUL bytes
        lineno = getattr(exc, "lineno", None)
        line = f"Line {lineno}: " if lineno else ""
        return [f"{line}{type(exc).__name__}: {getattr(exc, 'msg', None) or exc}"]
    return [e.replace("Line None: ", "", 1) for e in result.errors]


_TOO_BIG_INT = f"integers larger than {MAX_INT_BITS} bits are not allowed"


def _ints(a, b) -> bool:
    return isinstance(a, int) and isinstance(b, int)


def _mul(a, b):
    for seq, n in ((a, b), (b, a)):
        if (
            isinstance(seq, (str, bytes, list, tuple))
            and isinstance(n, int)
            and len(seq) * n > MAX_SEQUENCE_LENGTH
        ):
            raise ScriptRestrictionError(
                f"sequences longer than {MAX_SEQUENCE_LENGTH} items are not allowed"
            )
    if _ints(a, b) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
        raise ScriptRestrictionError(_TOO_BIG_INT)
    return a * b


def _pow(a, b, mod=None):
    if mod is None and _ints(a, b) and b > 0 and (abs(a).bit_length() - 1) * b > MAX_INT_BITS:
        raise ScriptRestrictionError(_TOO_BIG_INT)
    return a**b if mod is None else pow(a, b, mod)


def _lshift(a, b):
    if _ints(a, b) and a and a.bit_length() + b > MAX_INT_BITS:
        raise ScriptRestrictionError(_TOO_BIG_INT)
    return a << b


_INPLACE_OPS = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": _mul,
    "/=": operator.itruediv,
    "%=": operator.imod,
    "**=": _pow,
    "<<=": _lshift,
    ">>=": operator.irshift,
    "|=": operator.ior,
    "^=": operator.ixor,
    "&=": operator.iand,
    "//=": operator.ifloordiv,
    "@=": operator.imatmul,
}


def _getattr(ob, name):
    value = safer_getattr_raise(ob, name)  # refuses "_*" names, str.format, frame/code attributes
    if isinstance(value, (ModuleType, FrameType, CodeType, TracebackType)):
        raise ScriptRestrictionError(f"access to {type(value).__name__} objects is not allowed")
    return value


def _write(ob):
    if type(ob) in (dict, list):
        return ob
    raise ScriptRestrictionError(f"cannot modify objects of type {type(ob).__name__!r} in scripts")


def _not_allowed(name: str) -> Callable[..., Any]:
    def refuse(*args, **kwargs):
        raise ScriptRestrictionError(f"{name}() is not allowed in scripts")

    return refuse


_UNSAFE_BUILTINS = {
    "__build_class__",
    "setattr",
    "delattr",
    "BaseException",
    "SystemExit",
    "KeyboardInterrupt",
    "GeneratorExit",
}
_BUILTINS: dict[str, Any] = {k: v for k, v in safe_builtins.items() if k not in _UNSAFE_BUILTINS}
_BUILTINS.update(
    all=all,
    any=any,
    dict=dict,
    enumerate=enumerate,
    filter=filter,
    frozenset=frozenset,
    list=list,
    map=map,
    max=max,
    min=min,
    reversed=reversed,
    set=set,
    sorted=sorted,
    sum=sum,
    tuple=tuple,
    zip=zip,
    pow=_pow,
    datetime=datetime,
    date=date,
    timedelta=timedelta,
    Decimal=Decimal,
)
for _name in (
    "open",
    "eval",
    "exec",
    "compile",
    "globals",
    "locals",
    "vars",
    "getattr",
    "setattr",
    "delattr",
    "type",
    "dir",
    "input",
    "breakpoint",
    "help",
    "memoryview",
    "object",
    "super",
    "iter",
    "next",
    "__import__",
    "exit",
    "quit",
):
    _BUILTINS[_name] = _not_allowed(_name)


class _Deadline:
    """Per-run deadline; ``check`` keeps raising once the limit was hit (catching it won't help)."""

    def __init__(self, limit: float):
        self.limit, self.end, self.expired = limit, time.monotonic() + limit, False

    def check(self) -> None:
        if self.expired or time.monotonic() > self.end:
            self.expired = True
            raise ScriptTimeout(f"script exceeded its time limit of {self.limit} s")


def _checking_iter(iterable, check):
    for item in iterable:
        check()
        yield item


class _CheckedRange:
    """A long range whose iteration checks the deadline (sum()/list() could not be interrupted)."""

    def __init__(self, rng: range, check):
        self._range, self._check = rng, check

    def __iter__(self):
        return _checking_iter(self._range, self._check)

    def __reversed__(self):
        return _checking_iter(reversed(self._range), self._check)

    def __len__(self):
        return len(self._range)

    def __contains__(self, value):  # range scans linearly in C for non-int values
        return value in self._range if isinstance(value, int) else any(v == value for v in self)

    def __getitem__(self, index):
        item = self._range[index]
        return _wrap_range(item, self._check) if isinstance(item, range) else item

    def __repr__(self):
        return repr(self._range)


def _wrap_range(rng: range, check):
    try:
        short = len(rng) <= _LAZY_RANGE_LENGTH
    except OverflowError:
        short = False
    return rng if short else _CheckedRange(rng, check)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow script environment running RestrictedPython-compiled code with a time limit."""

    def __init__(
        self,
        services: Mapping[str, Callable[..., Any]] | None = None,
        time_limit: float = 1.0,
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ):
        super().__init__()
        self.services = dict(services or {})
        self.time_limit = time_limit
        # Trusted helpers of ours that scripts may call; each gets the task data first.
        self.functions = dict(functions or {})

    def _globals(self, context: Mapping[str, Any], external_context: Mapping[str, Any] | None):
        deadline = _Deadline(self.time_limit)
        check = deadline.check
        builtins = dict(_BUILTINS, range=lambda *args: _wrap_range(range(*args), check))
        builtins.update(
            {name: partial(func, dict(context)) for name, func in self.functions.items()}
        )
        names = {
            k: v
            for k, v in {**(external_context or {}), **context}.items()
            if not k.startswith("_")
        }
        names.update(
            __builtins__=builtins,
            _tick_=check,
            _getiter_=lambda ob: (
                iter(ob) if type(ob) is _CheckedRange else _checking_iter(ob, check)
            ),
            _getattr_=_getattr,
            _getitem_=operator.getitem,
            _write_=_write,
            _inplacevar_=lambda op, x, y: _INPLACE_OPS[op](x, y),
            _apply_=lambda f, *a, **kw: f(*a, **kw),
            _iter_unpack_sequence_=guarded_iter_unpack_sequence,
            _unpack_sequence_=guarded_unpack_sequence,
            _print_=PrintCollector,
            _pow_=_pow,
            _mul_=_mul,
            _lshift_=_lshift,
        )
        return names, deadline

    def evaluate(self, expression, context, external_context=None):
        """Evaluate an expression against task data (and external_context); return its value."""
        code = _compile(expression, "eval")
        names, deadline = self._globals(context, external_context)
        result = eval(code, names)
        if deadline.expired:  # the script caught ScriptTimeout and carried on
            deadline.check()
        return result

    def execute(self, script, context, external_context=None):
        """Run a script; on success write new and changed names back, drop deleted ones.

        Names starting with "_", functions, classes and modules are never written back; on error the
        context is left as it was (except for in-place changes to mutable values).
        """
        external_context = external_context or {}
        code = _compile(script, "exec")
        names, deadline = self._globals(context, external_context)
        exec(code, names)
        if deadline.expired:
            deadline.check()
        for name in [k for k in context if not k.startswith("_") and k not in names]:
            del context[name]  # deleted by the script
        for name, value in names.items():
            if name.startswith("_"):
                continue
            if callable(value) or isinstance(value, ModuleType):
                context.pop(name, None)
            elif (
                name in context
                or name not in external_context
                or value is not external_context[name]
            ):
                context[name] = value
        return True

    def call_service(
        self, context, operation_name=None, operation_params=None, step=None, **kwargs
    ) -> str:
        """Call ``services[operation_name](step, context, **params)``; the result as JSON.

        `step` is the caller's step context (opaque here: what the service layer bound with
        `bound_step`); the service gets it as its first argument, explicitly."""
        service = self.services.get(operation_name)
        if service is None:
            known = ", ".join(sorted(self.services)) or "none"
            raise UnknownService(
                f"unknown service operation {operation_name!r} (available: {known})"
            )
        params = {
            name: param["value"] if isinstance(param, Mapping) and "value" in param else param
            for name, param in (operation_params or {}).items()
        }
        return json.dumps(service(step, context, **params), ensure_ascii=False, default=str)


class UnknownService(LookupError):
    """A diagram names a service operation nobody registered."""


class ServiceCrashed(Exception):
    """A service task raised something other than a business error: a bug of ours.

    Deliberately not a SpiffWorkflowException, so that it passes the runner's handling of
    diagram errors and reaches the service layer as the crash it is."""

    def __init__(self, operation: str | None, element_id: str | None, element_name: str | None):
        super().__init__(f"service {operation!r} crashed")
        self.operation = operation
        self.element_id = element_id
        self.element_name = element_name


# The step context of the engine step running in this thread (see Runner.bound).
_step: ContextVar[Any] = ContextVar("xueji_engine_step", default=None)


@contextmanager
def bound_step(step: Any) -> Iterator[None]:
    """Service tasks run in this block receive `step` as their first argument."""
    token = _step.set(step)
    try:
        yield
    finally:
        _step.reset(token)


class RestrictedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine whose ``call_service`` reports errors (3.2.0's raises a NameError)."""

    def create_task_exec_exception(self, task, script, err):
        # SpiffWorkflow does ``":" + err.args[0]``, which fails for e.g. KeyError(1).
        if isinstance(err, SpiffWorkflowException) or not err.args or isinstance(err.args[0], str):
            return super().create_task_exec_exception(task, script, err)
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        return WorkflowTaskException(
            f"{type(err).__name__}:{err.args[0]!r}",
            task=task,
            exception=err,
            line_number=line_number,
            error_line=error_line,
        )

    def call_service(self, task, **kwargs):
        try:
            return self.environment.call_service(task.data, step=_step.get(), **kwargs)
        except SpiffWorkflowException:
            raise
        except XuejiError as exc:
            # A business rule refused: the service's own sentence, nothing wrapped around it.
            raise WorkflowTaskException(str(exc.detail), task=task, exception=exc) from exc
        except UnknownService as exc:
            raise WorkflowTaskException(str(exc), task=task, exception=exc) from exc
        except Exception as exc:
            raise _crashed(task, kwargs) from exc


def _crashed(task, kwargs) -> ServiceCrashed:
    spec = task.task_spec
    return ServiceCrashed(
        kwargs.get("operation_name"),
        getattr(spec, "bpmn_id", None),
        getattr(spec, "bpmn_name", None),
    )


def make_script_engine(
    services=None, time_limit: float = 1.0, functions=None
) -> PythonScriptEngine:
    """A SpiffWorkflow PythonScriptEngine running on RestrictedEnvironment."""
    return RestrictedScriptEngine(
        environment=RestrictedEnvironment(services, time_limit, functions)
    )
