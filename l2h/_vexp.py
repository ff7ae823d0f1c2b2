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
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def bits_to_float64(typingctx, value):
    """Reinterpret an int64's bits as a float64 (an LLVM bitcast; vectorises)."""
    if value != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def float64_to_bits(typingctx, value):
    """Reinterpret a float64's bits as an int64."""
    if value != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def bits_to_float32(typingctx, value):
    """Reinterpret an int32's bits as a float32."""
    if value != types.int32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 rounded to 32 significant bits
_LN2_LO = 1.90821492927058770002e-10  # ln 2 - _LN2_HI
_SHIFT = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer held in the low bits
_LOWEST = -708.39  # below this exp(x) is subnormal: return 0
_C = [1.0 / math.factorial(i) for i in range(13)]
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12 = _C


@nb.njit(nogil=True, cache=True, fastmath={"contract"})
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
