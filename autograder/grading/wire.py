"""The only things that cross between the trusted grader and a student's sandbox: data.

A message is a length-prefixed frame: a JSON header, then binary blobs. Values
are nested JSON (None, bool, int, float, str, lists, tuples, str-keyed dicts)
whose arrays travel as ``.npy`` blobs read with ``allow_pickle=False``. There is
no pickle and no object whose methods the receiver would call, so a hostile
sender can at worst send wrong data.
"""
from __future__ import annotations

import io
import json
import math
import struct

import numpy as np

MAX_FRAME = 256 * 2**20  # one message; larger ones are a protocol error
_HEAD = struct.Struct("!II")  # header length, number of blobs
_BLOB = struct.Struct("!Q")


class WireError(Exception):
    """A malformed or oversized message, or a value that is not data."""


class Closed(WireError):
    """The other end went away."""


# ------------------------------------------------------------------ values


def encode(value, blobs: list[bytes], *, where: str = "value"):
    """A JSON-able tree for ``value``; arrays are appended to ``blobs``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return {"int": str(value)}  # JSON ints lose precision past 2**53 in some readers
    if isinstance(value, float):
        return {"float": repr(value)} if not math.isfinite(value) else value
    if isinstance(value, complex):
        return {"complex": [value.real, value.imag]}
    if isinstance(value, (list, tuple)):
        items = [encode(v, blobs, where=f"{where}[{i}]") for i, v in enumerate(value)]
        return {"tuple": items} if isinstance(value, tuple) else {"list": items}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise WireError(f"{where}: only dicts with str keys are data")
        return {"dict": {k: encode(v, blobs, where=f"{where}[{k!r}]") for k, v in value.items()}}
    return _encode_array(value, blobs, where)


def _encode_array(value, blobs, where):
    kind = "numpy"
    module = type(value).__module__ or ""
    if module.startswith(("jax", "jaxlib")):
        import jax

        if isinstance(value, jax.Array):
            kind = "jax"
            if jax.dtypes.issubdtype(value.dtype, jax.dtypes.prng_key):
                impl = str(jax.random.key_impl(value))
                blobs.append(_npy(np.asarray(jax.random.key_data(value))))
                return {"key": len(blobs) - 1, "impl": impl}
    elif isinstance(value, np.generic):
        kind = "scalar"
    elif not isinstance(value, np.ndarray):
        raise WireError(f"{where}: a {type(value).__name__} is not data (send arrays, numbers, "
                        "strings, None, or lists/tuples/dicts of them)")
    array = np.asarray(value)
    if array.dtype.hasobject:
        raise WireError(f"{where}: arrays of Python objects are not data")
    blobs.append(_npy(array))
    return {kind: len(blobs) - 1}


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def to_jax(array: np.ndarray, key_impl: str | None):
    """Rebuild a jax.Array (or a typed PRNG key) from a decoded array; for ``decode(to_jax=...)``."""
    import jax
    import jax.numpy as jnp

    if key_impl:
        return jax.random.wrap_key_data(jnp.asarray(array), impl=key_impl)
    return jnp.asarray(array)


def decode(tree, blobs: list[bytes], *, to_jax=None):
    """Inverse of ``encode``. ``to_jax(ndarray, key_impl)`` rebuilds jax arrays (None: keep numpy)."""
    try:
        return _decode(tree, blobs, to_jax)
    except RecursionError:
        raise WireError("value nested too deeply") from None


def _decode(tree, blobs, to_jax):
    if tree is None or isinstance(tree, (bool, str, float)):
        return tree
    if isinstance(tree, int):
        return tree
    if not isinstance(tree, dict) or len(tree) not in (1, 2):
        raise WireError("malformed value")
    if "int" in tree:
        return int(_str(tree["int"]))
    if "float" in tree:
        return float(_str(tree["float"]))
    if "complex" in tree:
        re_im = tree["complex"]
        if not (isinstance(re_im, list) and len(re_im) == 2):
            raise WireError("malformed complex")
        return complex(float(re_im[0]), float(re_im[1]))
    if "list" in tree or "tuple" in tree:
        items = tree.get("list", tree.get("tuple"))
        if not isinstance(items, list):
            raise WireError("malformed sequence")
        out = [_decode(v, blobs, to_jax) for v in items]
        return out if "list" in tree else tuple(out)
    if "dict" in tree:
        if not isinstance(tree["dict"], dict):
            raise WireError("malformed dict")
        return {str(k): _decode(v, blobs, to_jax) for k, v in tree["dict"].items()}
    if "key" in tree:
        data = _array(tree["key"], blobs)
        if to_jax is None:
            return data
        return to_jax(data, _str(tree.get("impl", "")))
    for kind in ("numpy", "jax", "scalar"):
        if kind in tree:
            array = _array(tree[kind], blobs)
            if kind == "scalar":
                return array[()]
            if kind == "jax" and to_jax is not None:
                return to_jax(array, None)
            return array
    raise WireError("unknown value kind")


def _str(x) -> str:
    if not isinstance(x, str) or len(x) > 100:
        raise WireError("malformed scalar")
    return x


def _array(index, blobs) -> np.ndarray:
    if not isinstance(index, int) or not 0 <= index < len(blobs):
        raise WireError("array reference out of range")
    try:
        return np.load(io.BytesIO(blobs[index]), allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 -- numpy raises ValueError, EOFError, ... on bad bytes
        raise WireError(f"unreadable array: {exc}") from None


# ------------------------------------------------------------------ frames


def send(sock, header: dict, blobs: list[bytes] = ()) -> None:
    head = json.dumps(header, ensure_ascii=False, allow_nan=False).encode()
    parts = [_HEAD.pack(len(head), len(blobs)), head]
    for blob in blobs:
        parts += [_BLOB.pack(len(blob)), blob]
    payload = b"".join(parts)
    if len(payload) > MAX_FRAME:
        raise WireError(f"message of {len(payload)} bytes is over the {MAX_FRAME}-byte limit")
    sock.sendall(struct.pack("!Q", len(payload)) + payload)


def _read_exact(sock, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise Closed("connection closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv(sock, max_bytes: int = MAX_FRAME) -> tuple[dict, list[bytes]]:
    (size,) = struct.unpack("!Q", _read_exact(sock, 8))
    if size > max_bytes:
        raise WireError(f"message of {size} bytes is over the {max_bytes}-byte limit")
    payload = memoryview(_read_exact(sock, size))
    try:
        head_len, n_blobs = _HEAD.unpack_from(payload, 0)
        pos = _HEAD.size
        header = json.loads(bytes(payload[pos:pos + head_len]))
        pos += head_len
        blobs = []
        for _ in range(n_blobs):
            (blen,) = _BLOB.unpack_from(payload, pos)
            pos += _BLOB.size
            if pos + blen > size:
                raise WireError("blob runs past the message")
            blobs.append(bytes(payload[pos:pos + blen]))
            pos += blen
    except (struct.error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise WireError(f"malformed message: {type(exc).__name__}") from None
    if not isinstance(header, dict):
        raise WireError("malformed message: header is not an object")
    return header, blobs
