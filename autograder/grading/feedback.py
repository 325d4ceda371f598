"""What a failed hidden test tells the student: a safe message and a full one.

A hidden test fails on data that the student's code returned or on an exception it
raised, and both can carry the hidden inputs out (``raise ValueError(repr(x))``),
as can the expected values that ``np.testing`` prints. With resubmissions and
released feedback a student could collect them and hard-code the answers. So the
grader keeps two texts for every failure and the instructor picks which one the
notebook (and so the feedback) shows, with ``c.SandboxedExecute.feedback``:

* ``safe`` (default): the author's own message as written in the source (a string
  literal, an f-string with its values left out, or a ``{"en": …, "zh": …}[LANG]``
  table of those), a student's exception by its type alone, and no values;
* ``full``: the exception's whole text, with pytest's rewritten assertions
  (``assert out[1] == 3`` shows both sides) and the student's exception messages.
"""
from __future__ import annotations

import ast
import builtins
import functools

from autograder.grading.messages import say
from autograder.grading.testcell import PARSE_LOCK

DETAILS = ("safe", "full")
ELIDED = "…"


def _exception_names() -> frozenset[str]:
    """Exception types whose names carry no data: builtins, NumPy's and JAX's own."""
    names = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
    try:
        import jax.errors
        import numpy.exceptions

        for module in (jax.errors, numpy.exceptions):
            names |= {n for n, v in vars(module).items() if isinstance(v, type) and issubclass(v, BaseException)}
    except ImportError:  # pragma: no cover -- both ship with the course
        pass
    return frozenset(names | {"XlaRuntimeError", "JaxRuntimeError", "WireError"})


KNOWN_EXCEPTIONS = _exception_names()


def exception_type(name: str, lang: str) -> str:
    """A student's exception type as the safe feedback may show it.

    A class name is student data too (``type(repr(x), (Exception,), {})``), so only
    names of Python's, NumPy's and JAX's own exceptions are shown.
    """
    return name if name in KNOWN_EXCEPTIONS else say("own_exception", lang)


class AuthorMessages:
    """The literal messages of the asserts and ``np.testing`` calls of one hidden block, by line."""

    def __init__(self, source: str):
        self.by_line: dict[int, ast.expr] = {}
        with PARSE_LOCK:
            tree = ast.parse(source)
        for node in ast.walk(tree):
            message = None
            if isinstance(node, ast.Assert):
                message = node.msg
            elif isinstance(node, ast.Call):
                message = next((k.value for k in node.keywords if k.arg in ("err_msg", "msg")), None)
            if message is None:
                continue
            for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                # the innermost statement wins: ast.walk visits outer nodes first
                self.by_line[line] = message

    def at(self, line: int | None, lang: str) -> str | None:
        node = self.by_line.get(line) if line is not None else None
        return None if node is None else render_literal(node, lang)


def render_literal(node: ast.expr, lang: str) -> str | None:
    """The text of a message expression without any computed value, or None when it is all computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) else ELIDED for v in node.values]
        return "".join(str(p) for p in parts)
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Dict)
            and isinstance(node.slice, ast.Name) and node.slice.id == "LANG"):
        table = {k.value: v for k, v in zip(node.value.keys, node.value.values)
                 if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        chosen = table.get(lang, table.get("en"))
        return None if chosen is None else render_literal(chosen, lang)
    if (isinstance(node, ast.Call) and len(node.args) == 2 and isinstance(node.args[0], ast.Constant)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "message"):
        from autograder.grading import checks  # checks.message("key", LANG): the course's own bilingual text

        table = checks.MESSAGES.get(node.args[0].value)
        return None if table is None else table.get(lang, table["en"])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = render_literal(node.left, lang), render_literal(node.right, lang)
        return None if left is None or right is None else left + right
    return None


@functools.lru_cache(maxsize=256)
def author_messages(source: str) -> AuthorMessages:
    return AuthorMessages(source)


def failing_line(exc: BaseException, filename: str) -> int | None:
    """The line of the hidden block (compiled as ``filename``) that was running when ``exc`` was raised."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
