"""A vectorisable float64 ``exp`` for numba kernels, and the LLVM intrinsics they use.

NumPy's ``exp`` cannot be called per row from a numba kernel, and numba's ``math.exp`` is a
scalar libm call (about 5 ns here), which LLVM cannot vectorise. :func:`exp_nonpositive`
is plain arithmetic that LLVM turns into SIMD code inside any loop: Cody-Waite range
reduction by ``ln 2`` and a degree-12 Taylor polynomial on ``|r| <= ln(2) / 2``, evaluated
in Estrin's scheme. Its error is at most about 2.2 ulp over ``[-708.39, 0]`` (checked in the
tests against NumPy); below ``-708.39`` (where the true result is subnormal, under
``2.5e-308``) it returns 0. Also here: bit casts, a prefetch hint and a count of trailing
zero bits.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _bitcast(name: str, source, target, llvm_type):
    """An intrinsic that reinterprets a ``source`` scalar's bits as ``target`` (an LLVM
    bitcast: free, and it vectorises)."""

    def cast(typingctx, value):
        if value != source:
            return None

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], llvm_type)

        return target(source), codegen

    cast.__name__ = cast.__qualname__ = name
    cast.__doc__ = f"Reinterpret a {source}'s bits as a {target}."
    return intrinsic(cast)


bits_to_float64 = _bitcast("bits_to_float64", types.int64, types.float64, ir.DoubleType())
float64_to_bits = _bitcast("float64_to_bits", types.float64, types.int64, ir.IntType(64))
bits_to_float32 = _bitcast("bits_to_float32", types.int32, types.float32, ir.FloatType())
float32_to_bits = _bitcast("float32_to_bits", types.float32, types.int32, ir.IntType(32))


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 rounded to 32 significant bits
_LN2_LO = 1.90821492927058770002e-10  # ln 2 - _LN2_HI
_SHIFT = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer held in the low bits
_LOWEST = -708.39  # below this exp(x) is subnormal: return 0
_C = [1.0 / math.factorial(i) for i in range(13)]
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12 = _C


@nb.njit(nogil=True, fastmath={"contract"})
def exp_nonpositive(x):  # pragma: no cover - compiled
    """``exp(x)`` for ``x <= 0`` in float64, 0 below -708.39 (see the module docstring).

    ``exp(0)`` is exactly 1. NaN in gives an unspecified value (callers reject such rows).
    Only the ``contract`` fast-math flag is set: the range reduction relies on the order of
    its operations, which reassociation would destroy. So it must not be inlined by numba
    (``inline="always"`` would compile it with the caller's flags); LLVM inlines it anyway
    and keeps each instruction's own flags, so callers with ``fastmath`` stay exact.
    """
    y = x if x > _LOWEST else _LOWEST
    t = y * _LOG2E + _SHIFT
    n = t - _SHIFT
    r = (y - n * _LN2_HI) - n * _LN2_LO
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    ab = (_C0 + _C1 * r) + (_C2 + _C3 * r) * r2
    cd = (_C4 + _C5 * r) + (_C6 + _C7 * r) * r2
    ef = (_C8 + _C9 * r) + (_C10 + _C11 * r) * r2
    p = (ab + cd * r4) + (ef + _C12 * r4) * r8
    scale = bits_to_float64((float64_to_bits(t) + 1023) << 52)
    return p * scale if x > _LOWEST else 0.0


_F32 = np.float32
_F_LOG2E = _F32(1.4426950408889634)
_F_SHIFT = _F32(12582912.0)  # 1.5 * 2**23: adding it rounds to an integer held in the low bits
_F_LN2_HI = _F32(0.693145751953125)  # ln 2 rounded to 16 significant bits: n * _F_LN2_HI is exact
_F_LN2_LO = _F32(1.4286067653301870e-06)  # ln 2 - _F_LN2_HI
_F_LOWEST = _F32(-87.33)  # exp(-87.33) = 1.19e-38 is the smallest normal float32 result
# exp(r) = 1 + r + r^2 q(r) on |r| <= ln(2) / 2: q's minimax coefficients (relative error of
# the polynomial 3.1e-9, 0.05 float32 ulp)
_Q0 = _F32(0.4999999341248932)
_Q1 = _F32(0.16666520107829857)
_Q2 = _F32(0.04166839421284133)
_Q3 = _F32(0.008368780410312499)
_Q4 = _F32(0.0013814466981868264)


@nb.njit(nogil=True, fastmath={"contract"})
def exp_diff_float32(v, m):  # pragma: no cover - compiled
    """``exp(v - m)`` for float32 ``v <= m``, to float32 accuracy, in float32 arithmetic.

    The difference ``v - m`` is rounded to float32, and its rounding error (found exactly by
    Knuth's TwoSum) is added back after the range reduction, so the result is accurate as
    for the exact difference, even when it is large (a float32 softmax that rounds it loses
    up to ``|v - m|`` ulp). Error: within 1 ulp of the correctly rounded float32 result
    (tested); 0 when the result is below the smallest normal float32 (``v - m < -87.33``).
    16 lanes an AVX-512 instruction: about 2.5x faster than the float64
    :func:`exp_nonpositive`. Only ``contract`` is set (see :func:`exp_nonpositive`).
    """
    d = v - m
    back = d - v
    err = (v - (d - back)) + (-m - back)  # TwoSum: v - m == d + err exactly
    y = d if d > _F_LOWEST else _F_LOWEST
    t = y * _F_LOG2E + _F_SHIFT
    n = t - _F_SHIFT
    r = ((y - n * _F_LN2_HI) - n * _F_LN2_LO) + err
    q = _Q0 + r * (_Q1 + r * (_Q2 + r * (_Q3 + r * _Q4)))
    p = _F32(1.0) + (r + (r * r) * q)
    scale = bits_to_float32(np.int32((float32_to_bits(t) + 127) << 23))
    return p * scale if d >= _F_LOWEST else _F32(0.0)


@intrinsic
def prefetch(typingctx, array, index):
    """Hint the CPU to fetch ``array.flat[index]``'s cache line into L2 (``llvm.prefetch``).

    A read prefetch with locality 2 (``prefetcht1`` on x86): the line goes to the L2 cache,
    whose many miss buffers keep more prefetches in flight than L1's (measured faster for
    the merge steps' scattered reads than locality 3). For C-contiguous arrays; the index
    is not checked, and a prefetch never faults.
    """
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        i8p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i8p, ir.IntType(32), ir.IntType(32), ir.IntType(32)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        i32 = ir.IntType(32)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(2), i32(1)])
        return context.get_dummy_value()

    return types.none(array, index), codegen


@intrinsic
def trailing_zeros(typingctx, value):
    """Number of trailing zero bits of a nonzero uint64 (``llvm.cttz``: one instruction)."""
    if value != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        fnty = ir.FunctionType(i64, [i64, ir.IntType(1)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.cttz.i64")
        return builder.call(fn, [args[0], ir.IntType(1)(1)])

    return types.uint64(types.uint64), codegen
