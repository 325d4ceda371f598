"""JAX-aware facts for hidden tests, measured where the student's code runs.

Call these from ``probe_`` functions: each runs the student's function and returns
data -- a count, a size, the inputs as they are after the call -- and the ``test_``
function on the trusted side decides with an assertion and a message from
``message(key, LANG)``::

    def probe_traces(xs):
        return checks.trace_count(repeat_sin, *[(x, 3) for x in xs])

    def test_no_retracing_on_values():
        assert probe_traces(xs) == 1, checks.message("retraced", LANG)

They run next to the student's code, so a determined student can subvert them
(patch ``jax.make_jaxpr``, say). Use them for properties a task asks for, never as
the only thing between a wrong value and full marks: values are judged on the
trusted side (docs/grading-security.md).
"""
from __future__ import annotations

MESSAGES = {
    "input_changed": {"en": "the function modified an input it was given (arrays, dicts and lists must stay as they were)",
                      "zh": "函数修改了传给它的输入（数组、字典和列表都应保持原样）"},
    "retraced": {"en": "the function was traced again for inputs of the same shape: its Python code depends on values",
                 "zh": "形状相同的输入却让函数被重新追踪：它的 Python 代码依赖于具体数值"},
    "not_jittable": {"en": "the function does not work under jax.jit", "zh": "函数在 jax.jit 下无法运行"},
    "not_vmappable": {"en": "the function does not work under jax.vmap", "zh": "函数在 jax.vmap 下无法运行"},
    "jaxpr_grows": {"en": "the traced program grows with the loop count: the loop is unrolled in Python "
                          "(use lax.fori_loop or lax.scan)",
                    "zh": "追踪得到的程序随循环次数变长：循环在 Python 里被展开了（请用 lax.fori_loop 或 lax.scan）"},
    "host_callback": {"en": "the compiled function calls back to the host (a callback or a print of values)",
                      "zh": "编译后的函数会回调主机（用了回调，或打印了数值）"},
}

CALLBACK_PRIMITIVES = ("pure_callback", "io_callback", "debug_callback", "callback", "debug_print")


def message(key: str, lang: str) -> str:
    table = MESSAGES[key]
    return table.get(lang, table["en"])


def inputs_after(fn, *args, **kwargs):
    """``(result, args, kwargs)``: the result and the caller's own objects as they are after the call.

    Arrays cross into the sandbox as copies, so a mutation is visible only here;
    compare the returned inputs with the originals in the test.
    """
    out = fn(*args, **kwargs)
    return out, args, kwargs


def trace_count(fn, *arg_sets) -> int:
    """How many times ``jax.jit(fn)`` traces ``fn`` over the calls ``fn(*args)`` for each args in ``arg_sets``."""
    import jax

    traces = [0]

    def counted(*args):
        traces[0] += 1
        return fn(*args)

    jitted = jax.jit(counted)
    for args in arg_sets:
        jax.block_until_ready(jitted(*args))
    return traces[0]


def under_jit(fn, *args, static_argnums=()):
    """``jax.jit(fn)(*args)``."""
    import jax

    return jax.jit(fn, static_argnums=static_argnums)(*args)


def under_vmap(fn, *args, in_axes=0):
    """``jax.vmap(fn, in_axes)(*args)``."""
    import jax

    return jax.vmap(fn, in_axes=in_axes)(*args)


def _equations(jaxpr) -> list:
    """Every equation of a jaxpr, those of nested programs (loops, conds, jits) included."""
    out = []
    for eqn in jaxpr.eqns:
        out.append(eqn)
        for value in eqn.params.values():
            for sub in value if isinstance(value, (list, tuple)) else (value,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    out += _equations(inner)
    return out


def jaxpr_size(fn, *args, static_argnums=()) -> int:
    """Equations in the program ``fn(*args)`` traces to, nested programs included."""
    import jax

    return len(_equations(jax.make_jaxpr(fn, static_argnums=static_argnums)(*args).jaxpr))


def host_callbacks(fn, *args, static_argnums=()) -> int:
    """Callback equations (pure/io/debug callbacks, debug prints) in the program ``fn(*args)`` traces to."""
    import jax

    eqns = _equations(jax.make_jaxpr(fn, static_argnums=static_argnums)(*args).jaxpr)
    return sum(1 for e in eqns if e.primitive.name in CALLBACK_PRIMITIVES)
