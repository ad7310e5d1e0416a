// N-API entry points added beside binding.c's: products with quantized weights (quant.c) and the
// optimizer's fused loops (optim.c). Like binding.c, every call checks that what it will touch lies
// inside the typed arrays it was given.
//
//   qmatmul(type, w, out, in, x, xOff, rows, y)  — type: ggml's id (8 = Q8_0, 2 = Q4_0); w: a
//       Uint8Array of out·in/32 blocks; x: Float32Array rows·in from xOff; y: Float32Array rows·out
//   qmatmulConfig(portable?) → "AVX2" | "portable C"  (portable = true forces the C version: tests)
//   adamw(p, g, m, v, hp) — hp: Float64Array [b1, b2, c1, c2, keep, stepSize, bc2Sqrt, eps]; equal lengths
//   sumSquares(g) → Σ g² (float64)        scale(g, s) — g *= s in place

#define NAPI_VERSION 8
#include <malloc.h>
#include <math.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernels.h"

static bool typed(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  napi_value ab;
  size_t off = 0;
  if (napi_get_typedarray_info(env, v, &type, len, data, &ab, &off) != napi_ok) return false;
  return type == want;
}

static bool count(napi_env env, napi_value v, double* out) {
  if (napi_get_value_double(env, v, out) != napi_ok) return false;
  return *out >= 0 && *out <= 2147483647.0 && floor(*out) == *out;
}

napi_value strata_napi_qmatmul(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 8) {
    napi_throw_type_error(env, NULL, "qmatmul(type, w, out, in, x, xOff, rows, y): wrong number of arguments");
    return NULL;
  }
  double type, out, in, xoff, rows;
  void *w, *x, *y;
  size_t lw, lx, ly;
  if (!count(env, argv[0], &type) || !typed(env, argv[1], napi_uint8_array, &w, &lw) || !count(env, argv[2], &out) || !count(env, argv[3], &in) ||
      !typed(env, argv[4], napi_float32_array, &x, &lx) || !count(env, argv[5], &xoff) || !count(env, argv[6], &rows) ||
      !typed(env, argv[7], napi_float32_array, &y, &ly)) {
    napi_throw_type_error(env, NULL, "qmatmul(type, w, out, in, x, xOff, rows, y): bad arguments");
    return NULL;
  }
  if (type != STRATA_Q8_0 && type != STRATA_Q4_0) {
    napi_throw_range_error(env, NULL, "qmatmul: type must be 8 (Q8_0) or 2 (Q4_0)");
    return NULL;
  }
  double bb = type == STRATA_Q8_0 ? 34 : 18;
  if (fmod(in, 32) != 0 || out * (in / 32) * bb > (double)lw || xoff + rows * in > (double)lx || rows * out > (double)ly) {
    napi_throw_range_error(env, NULL, "qmatmul: in must be a multiple of 32 and w, x and y must hold out·in/32 blocks, rows·in and rows·out values");
    return NULL;
  }
  int rc = strata_qmatmul((int)type, (const uint8_t*)w, (size_t)out, (size_t)in, (const float*)x + (size_t)xoff, (size_t)rows, (float*)y);
  if (rc != 0) napi_throw_range_error(env, NULL, "qmatmul: out of memory");
  return NULL;
}

napi_value strata_napi_qmatmul_config(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool portable = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 1) napi_get_value_bool(env, argv[0], &portable);
  strata_qmatmul_force_portable(portable ? 1 : 0);
  napi_value s;
  napi_create_string_utf8(env, strata_qmatmul_isa(), NAPI_AUTO_LENGTH, &s);
  return s;
}

napi_value strata_napi_adamw(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  void *p, *g, *m, *v, *hp;
  size_t lp, lg, lm, lv, lh;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 || !typed(env, argv[0], napi_float32_array, &p, &lp) ||
      !typed(env, argv[1], napi_float32_array, &g, &lg) || !typed(env, argv[2], napi_float32_array, &m, &lm) ||
      !typed(env, argv[3], napi_float32_array, &v, &lv) || !typed(env, argv[4], napi_float64_array, &hp, &lh)) {
    napi_throw_type_error(env, NULL, "adamw(p, g, m, v, hp): bad arguments");
    return NULL;
  }
  if (lg != lp || lm != lp || lv != lp || lh != 8) {
    napi_throw_range_error(env, NULL, "adamw: p, g, m and v must have equal lengths and hp 8 values");
    return NULL;
  }
  const double* h = (const double*)hp;
  strata_adamw_hp s = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]};
  strata_adamw((float*)p, (const float*)g, (float*)m, (float*)v, lp, &s);
  return NULL;
}

napi_value strata_napi_sum_squares(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void* g;
  size_t lg;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || !typed(env, argv[0], napi_float32_array, &g, &lg)) {
    napi_throw_type_error(env, NULL, "sumSquares(g): bad arguments");
    return NULL;
  }
  napi_value out;
  napi_create_double(env, strata_sum_squares((const float*)g, lg), &out);
  return out;
}

napi_value strata_napi_scale(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void* g;
  size_t lg;
  double s;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || !typed(env, argv[0], napi_float32_array, &g, &lg) ||
      napi_get_value_double(env, argv[1], &s) != napi_ok) {
    napi_throw_type_error(env, NULL, "scale(g, s): bad arguments");
    return NULL;
  }
  strata_scale((float*)g, lg, (float)s);
  return NULL;
}

// Every op allocates its output as a new typed array, freed only when V8 collects it. glibc's
// adaptive thresholds then map and unmap those megabyte buffers again and again, and each fresh
// page costs a fault on first touch — measured here as more time than SwiGLU's arithmetic on the
// same buffer. Fixed thresholds keep freed buffers in the heap for the next op (at most 128 MiB
// kept free beyond what is in use); allocations of 32 MiB and more are still mapped.
void strata_tune_malloc(void) {
#ifdef M_MMAP_THRESHOLD
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}
