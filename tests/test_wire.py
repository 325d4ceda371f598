"""The wire format between grader and sandbox: data round-trips exactly, anything else is refused."""
import socket
import struct

import numpy as np
import pytest

from autograder.grading import wire


def roundtrip(value, to_jax=None):
    blobs: list[bytes] = []
    tree = wire.encode(value, blobs)
    a, b = socket.socketpair()
    with a, b:
        wire.send(a, {"value": tree}, blobs)
        header, got = wire.recv(b)
    return wire.decode(header["value"], got, to_jax=to_jax)


def test_python_values_keep_their_types_and_precision():
    value = {"big": 2**63 + 1, "t": (1, [2.5, None]), "s": "数据", "nan": float("nan"), "c": 1 - 2j, "b": True}
    got = roundtrip(value)
    assert got["big"] == 2**63 + 1 and isinstance(got["t"], tuple) and isinstance(got["t"][1], list)
    assert got["s"] == "数据" and np.isnan(got["nan"]) and got["c"] == 1 - 2j and got["b"] is True


@pytest.mark.parametrize("array", [np.arange(6, dtype=np.int8).reshape(2, 3), np.array([1.5], np.float16),
                                   np.zeros((0, 4), np.float32), np.array([True, False])])
def test_numpy_arrays_keep_dtype_shape_and_values(array):
    got = roundtrip(array)
    assert got.dtype == array.dtype and got.shape == array.shape and np.array_equal(got, array)


def test_numpy_scalars_stay_scalars():
    got = roundtrip(np.float32(2.5))
    assert isinstance(got, np.float32) and got == 2.5


def test_jax_arrays_and_typed_keys_come_back_as_jax():
    import jax
    import jax.numpy as jnp

    got = roundtrip({"x": jnp.arange(3.0), "k": jax.random.key(7)}, to_jax=wire.to_jax)
    assert isinstance(got["x"], jax.Array) and got["x"].tolist() == [0.0, 1.0, 2.0]
    assert jax.dtypes.issubdtype(got["k"].dtype, jax.dtypes.prng_key)
    assert jax.random.key_data(got["k"]).tolist() == jax.random.key_data(jax.random.key(7)).tolist()


@pytest.mark.parametrize("value", [object(), {1: "a"}, np.array([object()]), lambda: 1])
def test_what_is_not_data_is_refused(value):
    with pytest.raises(wire.WireError):
        wire.encode(value, [])


@pytest.mark.parametrize("tree", [{"int": 5}, {"list": "x"}, {"numpy": 3}, {"what": 1}, [1, 2], {"a": 1, "b": 2, "c": 3}])
def test_malformed_trees_are_refused(tree):
    with pytest.raises(wire.WireError):
        wire.decode(tree, [])


def test_a_blob_that_is_not_an_npy_file_is_refused():
    with pytest.raises(wire.WireError, match="unreadable array"):
        wire.decode({"numpy": 0}, [b"\x93NUMPY garbage"])


def test_frames_over_the_limit_and_truncated_frames():
    a, b = socket.socketpair()
    with a, b:
        wire.send(a, {"op": "x"}, [b"0" * 100])
        with pytest.raises(wire.WireError, match="over the 50-byte limit"):
            wire.recv(b, max_bytes=50)
    a, b = socket.socketpair()
    with a, b:
        payload = struct.pack("!II", 2, 0) + b"{}"
        a.sendall(struct.pack("!Q", len(payload) + 10) + payload)
        a.close()
        with pytest.raises(wire.Closed):
            wire.recv(b)
    a, b = socket.socketpair()
    with a, b:
        payload = struct.pack("!II", 2, 1) + b"[]" + struct.pack("!Q", 99)
        a.sendall(struct.pack("!Q", len(payload)) + payload)
        with pytest.raises(wire.WireError):
            wire.recv(b)
