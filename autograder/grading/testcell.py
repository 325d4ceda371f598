"""Hidden tests as pytest runs them: parametrized cases, fixtures, rewritten assertions.

``cases`` turns a hidden block's ``test_`` functions into the cases pytest would
collect: one per ``@pytest.mark.parametrize`` combination, each with its
arguments and the block's ``@pytest.fixture`` functions resolved by name. Both
graders use it, so every case counts in partial credit the same way.

``run_tests`` runs one tests cell inside a Jupyter kernel: the stock-nbgrader path
(an instructor's own run, or a course without the hardened pipeline). A cell's
points are split equally across its cases. nbgrader reads a number returned by
the cell as partial credit and an error as zero, so: all pass -> nothing,
some fail -> the points earned, all fail -> AssertionError.
"""
import ast
import inspect
import itertools
import textwrap
import threading
import traceback

from autograder.grading.messages import say

# CPython 3.11's parser is not safe to run from several threads at once (it fails with
# "AST constructor recursion depth mismatch"): the grading pool parses and compiles under this lock.
PARSE_LOCK = threading.RLock()

try:  # pytest's assertion rewriting shows both sides of a failed `assert a == b`
    from _pytest.assertion.rewrite import rewrite_asserts
    from _pytest.outcomes import OutcomeException
except ImportError:  # pragma: no cover -- pytest is a dependency; the tests still run without it
    rewrite_asserts = None

    class OutcomeException(BaseException):
        pass

# What a failing test raises: pytest.fail / raises' "DID NOT RAISE" / skip are BaseExceptions.
TEST_FAILURES = (Exception, OutcomeException)


def _fixture_function(obj):
    """The function behind ``@pytest.fixture`` (pytest >= 8.4 wraps it in an object, older ones in a function)."""
    if hasattr(obj, "_get_wrapped_function"):
        return obj._get_wrapped_function()
    wrapped = getattr(obj, "__pytest_wrapped__", None)
    return wrapped.obj if wrapped is not None and hasattr(obj, "_pytestfixturefunction") else None


def _case_id(values) -> str:
    def one(v):
        return str(v) if isinstance(v, (int, float, str, bool, type(None))) and len(str(v)) <= 20 else None

    parts = [one(v) for v in values]
    return "-".join(parts) if all(p is not None for p in parts) else ""


def _parametrizations(fn) -> list[tuple[str, dict]]:
    """(id, arguments) for each case of ``fn``; one case without arguments when it is not parametrized."""
    marks = [m for m in reversed(getattr(fn, "pytestmark", [])) if m.name == "parametrize"]
    axes = []
    for mark in marks:
        names, values = mark.args[0], list(mark.args[1])
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        ids = mark.kwargs.get("ids")
        options = []
        for k, value in enumerate(values):
            row = (value,) if len(names) == 1 else tuple(value)
            label = ids[k] if isinstance(ids, (list, tuple)) and k < len(ids) else (_case_id(row) or f"{names[0]}{k}")
            options.append((str(label), dict(zip(names, row))))
        axes.append(options)
    if not axes:
        return [("", {})]
    return [("-".join(label for label, _ in combo), {k: v for _, args in combo for k, v in args.items()})
            for combo in itertools.product(*axes)]


def _call_with_fixtures(fn, given: dict, namespace: dict):
    """Call ``fn`` with ``given`` and every other parameter from a fixture of that name (torn down after)."""
    teardowns = []

    def resolve(func, provided):
        kwargs = dict(provided)
        for name in inspect.signature(func).parameters:
            if name in kwargs:
                continue
            fixture = _fixture_function(namespace.get(name))
            if fixture is None:
                raise TypeError(f"{func.__name__}: no fixture or parameter named {name!r}")
            value = resolve(fixture, {})
            if inspect.isgenerator(value):
                generator, value = value, next(value)
                teardowns.append(generator)
            kwargs[name] = value
        return func(**kwargs)

    try:
        return resolve(fn, given)
    finally:
        for generator in reversed(teardowns):
            next(generator, None)


def cases(namespace: dict, functions) -> list[tuple[str, object]]:
    """(case name, zero-argument callable) for each case of the named test functions, in order."""
    out = []
    for name in functions:
        fn = namespace[name]
        for label, args in _parametrizations(fn):
            out.append((f"{name}[{label}]" if label else name,
                        lambda fn=fn, args=args: _call_with_fixtures(fn, args, namespace)))
    return out


def case_names(source: str, functions) -> tuple[str, ...]:
    """The case names of a hidden block (instructor code, run here only when it parametrizes)."""
    if "parametrize" not in source:
        return tuple(functions)
    namespace = {"__name__": "hidden_tests_collect", "LANG": "en"}
    exec(compile(source, "<hidden tests>", "exec"), namespace)
    return tuple(name for name, _ in cases(namespace, functions))


def rewritten(fn):
    """``fn`` recompiled with pytest's assertion rewriting (unchanged where its source is not available)."""
    if rewrite_asserts is None:
        return fn
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        with PARSE_LOCK:
            tree = ast.parse(source)
            rewrite_asserts(tree, source.encode())
            code = compile(tree, inspect.getsourcefile(fn) or "<hidden tests>", "exec")
        namespace = dict(fn.__globals__)
        exec(code, namespace)
        return namespace[fn.__name__]
    except (OSError, TypeError, SyntaxError, KeyError):
        return fn


def partial_credit(points: float, passed: int, total: int) -> float:
    """A tests cell's points split equally over its hidden tests (the grader's rounding)."""
    return round(points * passed / total, 6) if total else 0.0


def run_tests(*tests, points=None):
    # The notebook's set-up cell defines LANG; the tests share the notebook's globals.
    namespace = tests[0].__globals__ if tests else {}
    lang = namespace.get("LANG", "en")
    tests = [rewritten(t) for t in tests]
    collected = cases({**namespace, **{t.__name__: t for t in tests}}, [t.__name__ for t in tests])
    failures = []
    for name, call in collected:
        try:
            call()
        except TEST_FAILURES as exc:  # a crashing (or skipped) test is a failing test
            message = str(exc) or type(exc).__name__
            if not isinstance(exc, AssertionError):
                message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            failures.append(f"{name}: {message}")
            print(f"{say('fail', lang)} {name}: {message}")
        else:
            print(f"{say('ok', lang)} {name}")
    if not failures:
        return None
    passed, total = len(collected) - len(failures), len(collected)
    if passed == 0 or points is None:
        raise AssertionError(say("all_failed", lang, total=total) + "\n" + "\n".join(failures))
    earned = partial_credit(points, passed, total)
    print(say("score", lang, passed=passed, total=total, earned=earned, points=points))
    return earned
