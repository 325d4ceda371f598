"""Each JAX-aware check on a function that has the property and on one that lacks it."""
from __future__ import annotations

import ast

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from autograder.grading import checks, feedback
from autograder.notebook_format import LANGS


def test_inputs_after_shows_a_mutation():
    def pure(x, d):
        return x.sum() + d["a"]

    def mutating(x, d):
        x[0] = 99.0
        d["a"] = 0
        return x.sum()

    x, d = np.zeros(3), {"a": 1}
    _, args, _ = checks.inputs_after(pure, x, d)
    assert np.array_equal(args[0], np.zeros(3)) and args[1] == {"a": 1}
    _, args, _ = checks.inputs_after(mutating, x, d)
    assert args[0][0] == 99.0 and args[1] == {"a": 0}


def test_trace_count_counts_each_new_trace():
    def by_shape(x):
        return jnp.sin(x) * 2

    def by_shape_of_its_input(x):  # x.shape[0] is static: each new shape is a new trace
        return x * x.shape[0]

    xs = [(jnp.full(3, v),) for v in (1.0, 2.0, 3.0)]
    assert checks.trace_count(by_shape, *xs) == 1
    assert checks.trace_count(by_shape_of_its_input, (jnp.ones(2),), (jnp.ones(3),), (jnp.ones(4),)) == 3


def test_under_jit_and_vmap():
    assert float(checks.under_jit(lambda x: x + 1, jnp.float32(1))) == 2.0
    with pytest.raises(jax.errors.TracerBoolConversionError):
        checks.under_jit(lambda x: x if x > 0 else -x, jnp.float32(1))
    out = checks.under_vmap(lambda x: x.sum(), jnp.ones((4, 3)))
    assert out.shape == (4,)
    with pytest.raises(jax.errors.TracerBoolConversionError):
        checks.under_vmap(lambda x: x if x.sum() > 0 else -x, jnp.ones((4, 3)))


def test_jaxpr_size_does_not_grow_with_a_fori_loop_but_does_with_python():
    def with_fori(x, n):
        return jax.lax.fori_loop(0, n, lambda i, v: jnp.sin(v), x)

    def with_python(x, n):
        for _ in range(n):
            x = jnp.sin(x)
        return x

    small = checks.jaxpr_size(with_fori, 1.0, 2, static_argnums=1)
    assert small == checks.jaxpr_size(with_fori, 1.0, 20, static_argnums=1)
    assert checks.jaxpr_size(with_python, 1.0, 20, static_argnums=1) > checks.jaxpr_size(with_python, 1.0, 2,
                                                                                          static_argnums=1)


def test_host_callbacks_are_counted():
    def quiet(x):
        return x * 2

    def chatty(x):
        jax.debug.print("x = {}", x)
        return jax.pure_callback(np.sin, jax.ShapeDtypeStruct(x.shape, x.dtype), x)

    assert checks.host_callbacks(quiet, jnp.ones(3)) == 0
    assert checks.host_callbacks(chatty, jnp.ones(3)) == 2


def test_messages_are_bilingual_and_count_as_the_authors_own():
    for key, table in checks.MESSAGES.items():
        assert set(table) == set(LANGS) and all(table.values()), key
    node = ast.parse('checks.message("retraced", LANG)', mode="eval").body
    assert feedback.render_literal(node, "zh") == checks.MESSAGES["retraced"]["zh"]
