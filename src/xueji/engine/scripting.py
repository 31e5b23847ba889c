"""Restricted execution of BPMN/DMN scripts and expressions.

Diagrams are uploaded by administrators, so script tasks, gateway conditions and DMN
expressions are untrusted code.  Instead of SpiffWorkflow's plain ``exec``/``eval`` they go
through three layers:

1. **RestrictedPython, in the server**: every source is compiled (and cached) under a policy
   stricter than RestrictedPython's own (no imports, classes, generators or ``with``; no
   names or attributes starting with ``_``) before anything runs, so ``check_script`` and a
   refused step need no worker.  The compiled code runs with few builtins and guards
   (``safer_getattr``, dict/list-only write guard, guarded unpacking, size limits on ``**``,
   ``*`` and ``<<``) and a deadline check at every loop, function and long ``range``.

2. **Worker processes with hard limits** (``xueji.engine.sandbox``): scripts, and every
   expression that is not provably cheap, run in a pool of pre-started worker processes,
   under the same compiler and guards (``InProcessEnvironment``, the former in-process
   environment), each worker limited by ``RLIMIT_AS`` (``XUEJI_SCRIPT_MEMORY_MIB``, 512 MiB)
   and each job by the time limit (``XUEJI_SCRIPT_TIME_LIMIT``): past it (plus 0.2 s) the
   server kills the worker with SIGKILL and starts another, so that one long C call
   (``pow(3, 2**999999, 2**2000 + 1)``) is stopped as surely as ``while True: pass``.
   Threads use different workers (``XUEJI_SCRIPT_WORKERS``), so a bomb in one step does not
   hold up another's (unless every worker is busy: then a job waits for the first free one).
   Only the task data the code names goes to the worker, as JSON; what comes back is the
   expression's value or the names the script changed and removed, written back by the same
   rules as before (names starting with ``_``, functions, classes and modules are not
   written back; deleted names are removed), at most
   ``XUEJI_SCRIPT_RESULT_KIB`` (1 MiB) of JSON, every value checked by
   ``serializer.check_data``: a value the instance state cannot store ("x: values of type
   range cannot be stored", "d: keys must be strings (got 1)", "f: NaN is not a value") fails
   the step instead of being changed silently or failing at save.  The trusted helper
   functions (``functions=``, e.g. ``deadline_cycle``) stay in the server: a script's call
   travels back over the pipe and runs there, with the server's clock and settings.

3. **A fast path for simple expressions**: most gateway conditions (``decision == "正确"``,
   ``0 < total <= 10``, ``len(check["problems"]) == 0``, ``season == "春季" and year >= 2027``,
   ``deadline_cycle("P7D")``) are evaluated in the server without a round trip, when an AST
   whitelist proves them cheap: names, constants, comparisons, ``and``/``or``/``not``,
   ``if``-``else``, subscripts of plain data, data attributes of dates, tuple/list/set
   displays, ``len()``, the trusted functions, and ``+ - * / // %`` on numbers of at most 4096
   bits, dates and short texts/lists (no ``**``, no other calls, at most 100 nodes).  At run
   time every operand must be plain data of those kinds; anything else (a builtin such as
   ``date``, a name that is missing, a long text) goes to the pool instead.

A limit reached raises ``ScriptLimitExceeded`` (``ScriptTimeout``: "the script ran longer
than its time limit of 1.0 s and was stopped"; ``ScriptMemoryExceeded``: "… used more than
512 MiB of memory"; ``ScriptResultTooLarge``: "the script's result is larger than 1 MiB
(x)"), an unstorable value ``UnstorableValue``; SpiffWorkflow wraps them in a
``WorkflowTaskException`` and the runner turns that into a ``StepError`` whose reason names
the limit.  Other exceptions of a script
come back with their type (``KeyError``, ``ZeroDivisionError`` …) and line.

Not covered: compiling happens in the server (sources are bounded by the upload limit), and
a worker is a resource jail, not a security boundary of its own: code that escaped
RestrictedPython would still run as the service's user (without its environment variables).
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
from datetime import time as time_of_day
from decimal import Decimal
from functools import lru_cache, partial
from types import CodeType, FrameType, ModuleType, TracebackType
from typing import Any
from uuid import UUID

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

from xueji.engine import sandbox
from xueji.engine.sandbox import (
    ScriptError,
    ScriptLimitExceeded,
    ScriptMemoryExceeded,
    ScriptPool,
    ScriptRestrictionError,
    ScriptResultTooLarge,
    ScriptTimeout,
    ScriptWorkerFailed,
    UnstorableValue,
)
from xueji.engine.serializer import UnsafeData, check_data
from xueji.errors import XuejiError

__all__ = [
    "SCRIPT_ERRORS",
    "InProcessEnvironment",
    "RestrictedEnvironment",
    "RestrictedScriptEngine",
    "ScriptError",
    "ScriptLimitExceeded",
    "ScriptMemoryExceeded",
    "ScriptPool",
    "ScriptRestrictionError",
    "ScriptResultTooLarge",
    "ScriptTimeout",
    "ScriptWorkerFailed",
    "UnstorableValue",
    "check_script",
    "make_script_engine",
]

# What a step fails with when its script or expression broke a rule or limit (the runner
# turns them into a StepError also when SpiffWorkflow did not wrap them).
SCRIPT_ERRORS: tuple[type[Exception], ...] = (ScriptLimitExceeded, ScriptRestrictionError)

MAX_INT_BITS = 1_000_000  # largest int result of ``*``, ``**`` and ``<<``
MAX_SEQUENCE_LENGTH = 10_000_000  # largest result of ``sequence * n``
_LAZY_RANGE_LENGTH = 100_000  # longer ranges iterate with deadline checks


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

    def __init__(self, limit: float, what: str = "script"):
        self.limit, self.end, self.expired = limit, time.monotonic() + limit, False
        self.what = what

    def check(self) -> None:
        if self.expired or time.monotonic() > self.end:
            self.expired = True
            raise ScriptTimeout(sandbox.timeout_message(self.what, self.limit))


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


def _write_back(
    names: Mapping[str, Any], context: Mapping[str, Any], external: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """What a script run leaves for the task data: (new and changed names, removed names).

    Names starting with "_", functions, classes and modules are never written back (and are
    removed when the data had them); names the script deleted are removed."""
    removed = [k for k in context if not k.startswith("_") and k not in names]
    changed: dict[str, Any] = {}
    for name, value in names.items():
        if name.startswith("_"):
            continue
        if type(value) is _CheckedRange:
            value = value._range
        if callable(value) or isinstance(value, ModuleType):
            if name in context:
                removed.append(name)
        elif name in context or name not in external or value is not external[name]:
            changed[name] = value
    return changed, removed


class _Environment(BasePythonScriptEngineEnvironment):
    """What both environments share: the services, the time limit, the trusted functions."""

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


class InProcessEnvironment(_Environment):
    """RestrictedPython in this process, with the deadline checks only: what runs inside a
    worker. Not for untrusted code in the server (one long C call cannot be stopped here and
    memory is not limited); RestrictedEnvironment is."""

    def _globals(
        self,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None,
        what: str = "script",
    ):
        deadline = _Deadline(self.time_limit, what)
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
        names, deadline = self._globals(context, external_context, "expression")
        result = eval(code, names)
        if deadline.expired:  # the script caught ScriptTimeout and carried on
            deadline.check()
        return result

    def run_script(
        self, script: str, context: Mapping[str, Any], external_context: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[str]]:
        """Run a script; (new and changed names, removed names), see `_write_back`."""
        code = _compile(script, "exec")
        names, deadline = self._globals(context, external_context)
        exec(code, names)
        if deadline.expired:
            deadline.check()
        return _write_back(names, context, external_context)

    def execute(self, script, context, external_context=None):
        """Run a script; on success write new and changed names back, drop deleted ones.

        Names starting with "_", functions, classes and modules are never written back; on error the
        context is left as it was (except for in-place changes to mutable values).
        """
        changed, removed = self.run_script(script, context, external_context or {})
        for name in removed:
            context.pop(name, None)
        context.update(changed)
        return True


class RestrictedEnvironment(_Environment):
    """SpiffWorkflow script environment for untrusted diagrams: simple expressions here,
    everything else in a worker process of a ScriptPool (see the module's docstring).

    `pool` is a pool to use; without one, the process's shared pool of `workers` workers with
    `memory_limit` and `result_limit` (bytes) is used (and started now)."""

    def __init__(
        self,
        services: Mapping[str, Callable[..., Any]] | None = None,
        time_limit: float = 1.0,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        pool: ScriptPool | None = None,
        *,
        workers: int = sandbox.DEFAULT_WORKERS,
        memory_limit: int = sandbox.DEFAULT_MEMORY_LIMIT,
        result_limit: int = sandbox.DEFAULT_RESULT_LIMIT,
    ):
        super().__init__(services, time_limit, functions)
        self._explicit_pool = pool
        self._pool_limits = (workers, memory_limit, result_limit)
        if pool is None:
            sandbox.shared_pool(*self._pool_limits)  # start the workers now, not at a step

    @property
    def pool(self) -> ScriptPool:
        if self._explicit_pool is not None:
            return self._explicit_pool
        return sandbox.shared_pool(*self._pool_limits)  # a new one after a fork

    def evaluate(self, expression, context, external_context=None):
        """Evaluate an expression against task data (and external_context); return its value."""
        external_context = external_context or {}
        _compile(expression, "eval")  # refused code fails here, without a worker
        plan = _simple_plan(expression)
        if plan is not None:
            try:
                return _Simple(context, external_context, self.functions).value(plan)
            except _NotSimple:
                pass
        names = _referenced_names(expression, "eval")
        return self.pool.evaluate(
            expression,
            _pick(context, names),
            _pick(external_context, names),
            self.time_limit,
            self._functions_for(names, context),
        )

    def execute(self, script, context, external_context=None):
        """Run a script in a worker; on success write new and changed names back and remove
        deleted ones (see `_write_back`); on error the context is left as it was."""
        external_context = external_context or {}
        _compile(script, "exec")
        names = _referenced_names(script, "exec")
        changed, removed = self.pool.execute(
            script,
            _pick(context, names),
            _pick(external_context, names),
            self.time_limit,
            self._functions_for(names, context),
        )
        for name, value in changed.items():  # the worker checked them; it is not trusted
            try:
                check_data(value, name)
            except UnsafeData as exc:
                raise UnstorableValue(str(exc)) from None
        for name in removed:
            context.pop(name, None)
        context.update(changed)
        return True

    def _functions_for(
        self, names: frozenset[str], context: Mapping[str, Any]
    ) -> dict[str, Callable[..., Any]]:
        """The trusted functions the code names, bound to the task data as it is now."""
        used = [name for name in self.functions if name in names]
        if not used:
            return {}
        data = dict(context)
        return {name: partial(self.functions[name], data) for name in used}


def _pick(data: Mapping[str, Any], names: frozenset[str]) -> dict[str, Any]:
    """The items of `data` that code naming `names` can see."""
    if len(names) < len(data):
        return {name: data[name] for name in names if name in data}
    return {name: value for name, value in data.items() if name in names}


@lru_cache(maxsize=1024)
def _referenced_names(source: str, mode: str) -> frozenset[str]:
    """Every name the compiled code (and the functions in it) could read, write or delete.

    Scripts reach variables by name only (``globals()``, ``vars()`` … are refused), so the
    task data outside this set is neither seen nor changed."""
    found: set[str] = set()
    pending = [_compile(source, mode)]
    while pending:
        code = pending.pop()
        found.update(code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars)
        pending.extend(const for const in code.co_consts if isinstance(const, CodeType))
    return frozenset(name for name in found if not name.startswith("_"))


# --------------------------------------------------------------------------- the fast path

_COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_SIMPLE_NODES = frozenset(
    {
        ast.Expression,
        ast.Constant,
        ast.Name,
        ast.Load,
        ast.Compare,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.UnaryOp,
        ast.Not,
        ast.USub,
        ast.UAdd,
        ast.BinOp,
        ast.IfExp,
        ast.Subscript,
        ast.Slice,
        ast.Attribute,
        ast.Call,
        ast.keyword,
        ast.Tuple,
        ast.List,
        ast.Set,
        *_COMPARISONS,
        *_ARITHMETIC,
    }
)
_MAX_SIMPLE_NODES = 100
_DATA_TYPES = frozenset(
    {
        type(None),
        bool,
        int,
        float,
        str,
        list,
        tuple,
        dict,
        set,
        frozenset,
        date,
        datetime,
        time_of_day,
        timedelta,
        Decimal,
        UUID,
    }
)
_TIMES = (date, time_of_day, timedelta)  # datetime is a date
_SIZED = frozenset({str, list, tuple, dict, set, frozenset})
_CONCATENATED = frozenset({str, list, tuple})
_SMALL_INT = 1 << 4096
_MAX_CONCAT = 100_000


class _NotSimple(Exception):
    """The fast path cannot prove this evaluation cheap: send it to a worker."""


@lru_cache(maxsize=1024)
def _simple_plan(expression: str) -> ast.expr | None:
    """The expression's tree if the whitelist admits it, else None."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return None
    count = 0
    for node in ast.walk(tree):
        if type(node) not in _SIMPLE_NODES:
            return None
        if isinstance(node, ast.Call) and (
            not isinstance(node.func, ast.Name) or any(kw.arg is None for kw in node.keywords)
        ):
            return None
        count += 1
    return tree.body if count <= _MAX_SIMPLE_NODES else None


def _data(value: Any) -> Any:
    if type(value) not in _DATA_TYPES:
        raise _NotSimple
    return value


def _small_number(value: Any) -> bool:
    kind = type(value)
    if kind is int:
        return -_SMALL_INT < value < _SMALL_INT
    return kind is float or kind is bool or kind is Decimal


class _Simple:
    """Evaluates a whitelisted tree over task data, refusing (with _NotSimple) whatever it
    cannot prove cheap at run time. Same results and errors as the compiled expression."""

    __slots__ = ("context", "external", "functions")

    def __init__(
        self,
        context: Mapping[str, Any],
        external: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]],
    ):
        self.context, self.external, self.functions = context, external, functions

    def value(self, node: ast.expr) -> Any:
        return _SIMPLE_EVALUATORS[type(node)](self, node)

    def constant(self, node: ast.Constant) -> Any:
        return node.value

    def name(self, node: ast.Name) -> Any:
        if node.id in self.context:
            return _data(self.context[node.id])
        if node.id in self.external:
            return _data(self.external[node.id])
        raise _NotSimple  # a builtin (date, sum …) or a NameError: the worker will tell

    def compare(self, node: ast.Compare) -> Any:
        left = self.value(node.left)
        result: Any = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.value(comparator)
            result = _COMPARISONS[type(op)](left, right)
            if not result:
                return result
            left = right
        return result

    def bool_op(self, node: ast.BoolOp) -> Any:
        result: Any = None
        for item in node.values:
            result = self.value(item)
            if isinstance(node.op, ast.And) != bool(result):
                return result
        return result

    def unary_op(self, node: ast.UnaryOp) -> Any:
        operand = self.value(node.operand)
        if isinstance(node.op, ast.Not):
            return not operand
        if _small_number(operand) or isinstance(operand, timedelta):
            return -operand if isinstance(node.op, ast.USub) else +operand
        raise _NotSimple

    def bin_op(self, node: ast.BinOp) -> Any:
        left, right = self.value(node.left), self.value(node.right)
        op = type(node.op)
        if _small_number(left) and _small_number(right):
            return _ARITHMETIC[op](left, right)
        if op is ast.Add or op is ast.Sub:
            if isinstance(left, _TIMES) and isinstance(right, _TIMES):
                return _ARITHMETIC[op](left, right)
            kind = type(left)
            if (
                op is ast.Add
                and kind is type(right)
                and kind in _CONCATENATED
                and len(left) + len(right) <= _MAX_CONCAT
            ):
                return left + right
        raise _NotSimple

    def if_exp(self, node: ast.IfExp) -> Any:
        return self.value(node.body) if self.value(node.test) else self.value(node.orelse)

    def subscript(self, node: ast.Subscript) -> Any:
        container = self.value(node.value)
        if type(container) not in (dict, list, tuple, str):
            raise _NotSimple
        index = node.slice
        if isinstance(index, ast.Slice):
            parts = [
                None if part is None else self.value(part)
                for part in (index.lower, index.upper, index.step)
            ]
            if not all(part is None or type(part) is int for part in parts):
                raise _NotSimple
            return container[slice(*parts)]
        return _data(container[self.value(index)])

    def attribute(self, node: ast.Attribute) -> Any:
        owner = self.value(node.value)
        if not isinstance(owner, _TIMES) or node.attr.startswith("_"):
            raise _NotSimple
        return _data(getattr(owner, node.attr))

    def call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        if name in self.context or name in self.external:
            raise _NotSimple  # task data shadowing a function: leave it to the worker
        function = self.functions.get(name)
        if function is not None:
            args = [self.value(arg) for arg in node.args]
            kwargs = {str(kw.arg): self.value(kw.value) for kw in node.keywords}
            return function(dict(self.context), *args, **kwargs)
        if name == "len" and len(node.args) == 1 and not node.keywords:
            value = self.value(node.args[0])
            if type(value) in _SIZED:
                return len(value)
        raise _NotSimple

    def tuple_(self, node: ast.Tuple) -> Any:
        return tuple(self.value(item) for item in node.elts)

    def list_(self, node: ast.List) -> Any:
        return [self.value(item) for item in node.elts]

    def set_(self, node: ast.Set) -> Any:
        return {self.value(item) for item in node.elts}


_SIMPLE_EVALUATORS: dict[type, Callable[[_Simple, Any], Any]] = {
    ast.Constant: _Simple.constant,
    ast.Name: _Simple.name,
    ast.Compare: _Simple.compare,
    ast.BoolOp: _Simple.bool_op,
    ast.UnaryOp: _Simple.unary_op,
    ast.BinOp: _Simple.bin_op,
    ast.IfExp: _Simple.if_exp,
    ast.Subscript: _Simple.subscript,
    ast.Attribute: _Simple.attribute,
    ast.Call: _Simple.call,
    ast.Tuple: _Simple.tuple_,
    ast.List: _Simple.list_,
    ast.Set: _Simple.set_,
}


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
    services=None,
    time_limit: float = 1.0,
    functions=None,
    pool: ScriptPool | None = None,
    **pool_limits: int,
) -> PythonScriptEngine:
    """A SpiffWorkflow PythonScriptEngine running on RestrictedEnvironment.

    `pool_limits`: workers, memory_limit and result_limit of the shared pool (without `pool`).
    """
    return RestrictedScriptEngine(
        environment=RestrictedEnvironment(services, time_limit, functions, pool, **pool_limits)
    )
