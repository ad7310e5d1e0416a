// Strata's native fast path, the N-API binding: OpenBLAS's cblas_sgemm (row-major; one-row
// products go to cblas_sgemv) and the row kernels of kernels.c. Every call checks that what it will touch lies inside the typed arrays it
// was given, so a wrong shape from JavaScript is a thrown error, never a memory error.
//
//   sgemm(transA, transB, m, n, k, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc)
//   sgemmBatch(transA, transB, m, n, k, alpha, A, aOffs, lda, B, bOffs, ldb, beta, C, cOffs, ldc)
//       — the offsets are Float64Arrays of one element offset per product, run in order (so
//         repeated C offsets with beta = 1 accumulate, which is how broadcast batches reduce).
//   rmsNormForward(x, w, y, rstd, rows, n, eps)      rmsNormBackward(g, x, w, rstd, dx|null, dw|null, rows, n)
//   swigluForward(a, b, y)                           swigluBackward(g, a, b, da|null, db|null)
//   crossEntropyForward(x, targets, lse, rows, n, ignore) → summed loss
//   crossEntropyBackward(scale, x, targets, lse, dx, rows, n, ignore)
//   attentionForward(dims, q, k, v, out, lse)        attentionBackward(dims, q, k, v, dout, out, lse, dq|null, dk|null, dv|null)
//       — dims: Float64Array [qOff, qsB, qsT, qsH, kOff, ksB, ksT, ksH, vOff, vsB, vsT, vsH, B, T, S, Hq, Hkv, D, scale, causal]
//   setThreads(n) (OpenBLAS and the kernel pool), getThreads(), config()
//   qmatmul, qmatmulConfig, adamw, sumSquares, scale — see binding-ext.c

#define NAPI_VERSION 8
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kernels.h"

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "strata_blas: N-API call failed");  \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static bool get_f32(napi_env env, napi_value v, float** data, size_t* len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  void* ptr = NULL;
  napi_value ab;
  size_t off = 0;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off) != napi_ok) return false;
  if (type != napi_float32_array) return false;
  *data = (float*)ptr;
  return true;
}

static bool get_f64(napi_env env, napi_value v, double** data, size_t* len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  void* ptr = NULL;
  napi_value ab;
  size_t off = 0;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off) != napi_ok) return false;
  if (type != napi_float64_array) return false;
  *data = (double*)ptr;
  return true;
}

static bool get_num(napi_env env, napi_value v, double* out) {
  return napi_get_value_double(env, v, out) == napi_ok;
}

static bool get_bool(napi_env env, napi_value v, bool* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_boolean) return napi_get_value_bool(env, v, out) == napi_ok;
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  *out = d != 0;
  return true;
}

static bool is_index(double x) { return x >= 0 && x <= 9007199254740992.0 && floor(x) == x; }

// A rows×cols matrix at element offset `off` with leading dimension `ld` fits in an array of `len`.
static bool fits(double off, double rows, double cols, double ld, size_t len) {
  if (rows == 0 || cols == 0) return true;
  if (!is_index(off) || !is_index(ld) || ld < cols) return false;
  return off + (rows - 1) * ld + cols <= (double)len;
}

typedef struct {
  bool ta, tb;
  double m, n, k, alpha, beta, lda, ldb, ldc;
  float *a, *b, *c;
  size_t alen, blen, clen;
} gemm_args;

// Reads the 16 arguments shared by sgemm and sgemmBatch (offsets excepted: argument slots 7, 10, 14).
static bool read_common(napi_env env, napi_value* argv, gemm_args* g, bool batch) {
  if (!get_bool(env, argv[0], &g->ta) || !get_bool(env, argv[1], &g->tb)) return false;
  if (!get_num(env, argv[2], &g->m) || !get_num(env, argv[3], &g->n) || !get_num(env, argv[4], &g->k)) return false;
  if (!get_num(env, argv[5], &g->alpha) || !get_num(env, argv[12], &g->beta)) return false;
  if (!get_num(env, argv[8], &g->lda) || !get_num(env, argv[11], &g->ldb) || !get_num(env, argv[15], &g->ldc)) return false;
  if (!get_f32(env, argv[6], &g->a, &g->alen) || !get_f32(env, argv[9], &g->b, &g->blen) ||
      !get_f32(env, argv[13], &g->c, &g->clen))
    return false;
  (void)batch;
  if (!is_index(g->m) || !is_index(g->n) || !is_index(g->k)) return false;
  if (g->m > 2147483647.0 || g->n > 2147483647.0 || g->k > 2147483647.0) return false;
  if (g->lda > 2147483647.0 || g->ldb > 2147483647.0 || g->ldc > 2147483647.0) return false;
  return true;
}

static bool check_fit(const gemm_args* g, double ao, double bo, double co) {
  return fits(ao, g->ta ? g->k : g->m, g->ta ? g->m : g->k, g->lda, g->alen) &&
         fits(bo, g->tb ? g->n : g->k, g->tb ? g->k : g->n, g->ldb, g->blen) &&
         fits(co, g->m, g->n, g->ldc, g->clen);
}

static void run_gemm(const gemm_args* g, double ao, double bo, double co) {
  if (g->m == 0 || g->n == 0) return;
  // BLAS requires ld >= max(1, columns); a k = 0 product still scales C by beta.
  int lda = (int)(g->lda < 1 ? 1 : g->lda), ldb = (int)(g->ldb < 1 ? 1 : g->ldb), ldc = (int)(g->ldc < 1 ? 1 : g->ldc);
  if (g->m == 1 && g->k > 0) {
    // One row (a decoding step): OpenBLAS's sgemv streams B once, where sgemm packs it first
    // (BENCHMARKS.md measured 44 µs against 209 µs). The row of A is strided when A is transposed.
    int incx = g->ta ? lda : 1;
    if (g->tb) {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)g->n, (int)g->k, (float)g->alpha, g->b + (size_t)bo, ldb, g->a + (size_t)ao, incx,
                  (float)g->beta, g->c + (size_t)co, 1);
    } else {
      cblas_sgemv(CblasRowMajor, CblasTrans, (int)g->k, (int)g->n, (float)g->alpha, g->b + (size_t)bo, ldb, g->a + (size_t)ao, incx,
                  (float)g->beta, g->c + (size_t)co, 1);
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, (int)g->m, (int)g->n,
              (int)g->k, (float)g->alpha, g->a + (size_t)ao, lda, g->b + (size_t)bo, ldb, (float)g->beta,
              g->c + (size_t)co, ldc);
}

static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  gemm_args g;
  double ao, bo, co;
  if (argc != 16 || !read_common(env, argv, &g, false) || !get_num(env, argv[7], &ao) || !get_num(env, argv[10], &bo) ||
      !get_num(env, argv[14], &co)) {
    napi_throw_type_error(env, NULL, "sgemm(transA, transB, m, n, k, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc): bad arguments");
    return NULL;
  }
  if (!check_fit(&g, ao, bo, co)) {
    napi_throw_range_error(env, NULL, "sgemm: a matrix does not fit its array");
    return NULL;
  }
  run_gemm(&g, ao, bo, co);
  return NULL;
}

static napi_value SgemmBatch(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value argv[16];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  gemm_args g;
  double *ao, *bo, *co;
  size_t na, nb, nc;
  if (argc != 16 || !read_common(env, argv, &g, true) || !get_f64(env, argv[7], &ao, &na) || !get_f64(env, argv[10], &bo, &nb) ||
      !get_f64(env, argv[14], &co, &nc) || na != nb || na != nc) {
    napi_throw_type_error(env, NULL, "sgemmBatch(transA, transB, m, n, k, alpha, A, aOffs, lda, B, bOffs, ldb, beta, C, cOffs, ldc): bad arguments");
    return NULL;
  }
  for (size_t i = 0; i < na; i++) {
    if (!check_fit(&g, ao[i], bo[i], co[i])) {
      napi_throw_range_error(env, NULL, "sgemmBatch: a matrix does not fit its array");
      return NULL;
    }
  }
  for (size_t i = 0; i < na; i++) run_gemm(&g, ao[i], bo[i], co[i]);
  return NULL;
}

// ---------------------------------------------------------------------------------------------
// Row kernels

static bool get_i32(napi_env env, napi_value v, int32_t** data, size_t* len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  void* ptr = NULL;
  napi_value ab;
  size_t off = 0;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &ab, &off) != napi_ok) return false;
  if (type != napi_int32_array) return false;
  *data = (int32_t*)ptr;
  return true;
}

// A Float32Array or null (null → *data = NULL, *len = 0).
static bool get_f32_or_null(napi_env env, napi_value v, float** data, size_t* len) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_null || t == napi_undefined) {
    *data = NULL;
    *len = 0;
    return true;
  }
  return get_f32(env, v, data, len);
}

static bool get_count(napi_env env, napi_value v, size_t* out) {
  double d;
  if (!get_num(env, v, &d) || !is_index(d) || d > 4503599627370496.0) return false;
  *out = (size_t)d;
  return true;
}

#define ARGS(N)                                                        \
  size_t argc = N;                                                     \
  napi_value argv[N];                                                  \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));         \
  if (argc != N) {                                                     \
    napi_throw_type_error(env, NULL, "strata_native: wrong number of arguments"); \
    return NULL;                                                       \
  }
#define FAIL_TYPE(msg)                          \
  do {                                          \
    napi_throw_type_error(env, NULL, msg);      \
    return NULL;                                \
  } while (0)
#define FAIL_RANGE(msg)                         \
  do {                                          \
    napi_throw_range_error(env, NULL, msg);     \
    return NULL;                                \
  } while (0)

static napi_value RmsNormForward(napi_env env, napi_callback_info info) {
  ARGS(7);
  float *x, *w, *y, *rstd;
  size_t lx, lw, ly, lr, rows, n;
  double eps;
  if (!get_f32(env, argv[0], &x, &lx) || !get_f32(env, argv[1], &w, &lw) || !get_f32(env, argv[2], &y, &ly) || !get_f32(env, argv[3], &rstd, &lr) ||
      !get_count(env, argv[4], &rows) || !get_count(env, argv[5], &n) || !get_num(env, argv[6], &eps))
    FAIL_TYPE("rmsNormForward(x, w, y, rstd, rows, n, eps): bad arguments");
  if (lx < rows * n || ly < rows * n || lw < n || lr < rows) FAIL_RANGE("rmsNormForward: an array is too short");
  strata_rms_norm_fwd(x, w, y, rstd, rows, n, (float)eps);
  return NULL;
}

static napi_value RmsNormBackward(napi_env env, napi_callback_info info) {
  ARGS(8);
  float *g, *x, *w, *rstd, *dx, *dw;
  size_t lg, lx, lw, lr, ldx, ldw, rows, n;
  if (!get_f32(env, argv[0], &g, &lg) || !get_f32(env, argv[1], &x, &lx) || !get_f32(env, argv[2], &w, &lw) || !get_f32(env, argv[3], &rstd, &lr) ||
      !get_f32_or_null(env, argv[4], &dx, &ldx) || !get_f32_or_null(env, argv[5], &dw, &ldw) || !get_count(env, argv[6], &rows) ||
      !get_count(env, argv[7], &n))
    FAIL_TYPE("rmsNormBackward(g, x, w, rstd, dx|null, dw|null, rows, n): bad arguments");
  if (lg < rows * n || lx < rows * n || lw < n || lr < rows || (dx && ldx < rows * n) || (dw && ldw < n)) FAIL_RANGE("rmsNormBackward: an array is too short");
  if (strata_rms_norm_bwd(g, x, w, rstd, dx, dw, rows, n) != 0) FAIL_RANGE("rmsNormBackward: out of memory");
  return NULL;
}

static napi_value SwigluForward(napi_env env, napi_callback_info info) {
  ARGS(3);
  float *a, *b, *y;
  size_t la, lb, ly;
  if (!get_f32(env, argv[0], &a, &la) || !get_f32(env, argv[1], &b, &lb) || !get_f32(env, argv[2], &y, &ly)) FAIL_TYPE("swigluForward(a, b, y): bad arguments");
  if (lb < la || ly < la) FAIL_RANGE("swigluForward: an array is too short");
  strata_swiglu_fwd(a, b, y, la);
  return NULL;
}

static napi_value SwigluBackward(napi_env env, napi_callback_info info) {
  ARGS(5);
  float *g, *a, *b, *da, *db;
  size_t lg, la, lb, lda, ldb;
  if (!get_f32(env, argv[0], &g, &lg) || !get_f32(env, argv[1], &a, &la) || !get_f32(env, argv[2], &b, &lb) || !get_f32_or_null(env, argv[3], &da, &lda) ||
      !get_f32_or_null(env, argv[4], &db, &ldb))
    FAIL_TYPE("swigluBackward(g, a, b, da|null, db|null): bad arguments");
  if (la < lg || lb < lg || (da && lda < lg) || (db && ldb < lg)) FAIL_RANGE("swigluBackward: an array is too short");
  strata_swiglu_bwd(g, a, b, da, db, lg);
  return NULL;
}

static bool check_targets(const int32_t* t, size_t rows, size_t n, int32_t ignore) {
  for (size_t r = 0; r < rows; r++)
    if (t[r] != ignore && (t[r] < 0 || (size_t)t[r] >= n)) return false;
  return true;
}

static napi_value CrossEntropyForward(napi_env env, napi_callback_info info) {
  ARGS(6);
  float* x;
  int32_t* t;
  double* lse;
  size_t lx, lt, ll, rows, n;
  double ignore;
  if (!get_f32(env, argv[0], &x, &lx) || !get_i32(env, argv[1], &t, &lt) || !get_f64(env, argv[2], &lse, &ll) || !get_count(env, argv[3], &rows) ||
      !get_count(env, argv[4], &n) || !get_num(env, argv[5], &ignore))
    FAIL_TYPE("crossEntropyForward(x, targets, lse, rows, n, ignore): bad arguments");
  if (lx < rows * n || lt < rows || ll < rows) FAIL_RANGE("crossEntropyForward: an array is too short");
  if (!check_targets(t, rows, n, (int32_t)ignore)) FAIL_RANGE("crossEntropyForward: a target is out of range");
  napi_value out;
  CHECK(napi_create_double(env, strata_cross_entropy_fwd(x, t, lse, rows, n, (int32_t)ignore), &out));
  return out;
}

static napi_value CrossEntropyBackward(napi_env env, napi_callback_info info) {
  ARGS(8);
  double scale, ignore;
  float *x, *dx;
  int32_t* t;
  double* lse;
  size_t lx, lt, ll, ldx, rows, n;
  if (!get_num(env, argv[0], &scale) || !get_f32(env, argv[1], &x, &lx) || !get_i32(env, argv[2], &t, &lt) || !get_f64(env, argv[3], &lse, &ll) ||
      !get_f32(env, argv[4], &dx, &ldx) || !get_count(env, argv[5], &rows) || !get_count(env, argv[6], &n) || !get_num(env, argv[7], &ignore))
    FAIL_TYPE("crossEntropyBackward(scale, x, targets, lse, dx, rows, n, ignore): bad arguments");
  if (lx < rows * n || lt < rows || ll < rows || ldx < rows * n) FAIL_RANGE("crossEntropyBackward: an array is too short");
  if (!check_targets(t, rows, n, (int32_t)ignore)) FAIL_RANGE("crossEntropyBackward: a target is out of range");
  strata_cross_entropy_bwd((float)scale, x, t, lse, dx, rows, n, (int32_t)ignore);
  return NULL;
}

// Reads the 20 attention dims and checks each view against its array.
static bool read_attn_dims(napi_env env, napi_value v, strata_attn_dims* d, size_t lq, size_t lk, size_t lv) {
  double* a;
  size_t n;
  if (!get_f64(env, v, &a, &n) || n != 20) return false;
  strata_view* views[3] = {&d->q, &d->k, &d->v};
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < 4; j++)
      if (!is_index(a[4 * i + j])) return false;
    views[i]->off = a[4 * i];
    views[i]->sB = a[4 * i + 1];
    views[i]->sT = a[4 * i + 2];
    views[i]->sH = a[4 * i + 3];
  }
  for (int j = 12; j < 18; j++)
    if (!is_index(a[j]) || a[j] > 2147483647.0) return false;
  d->B = (int)a[12];
  d->T = (int)a[13];
  d->S = (int)a[14];
  d->Hq = (int)a[15];
  d->Hkv = (int)a[16];
  d->D = (int)a[17];
  d->scale = (float)a[18];
  d->causal = a[19] != 0;
  if (d->Hkv < 1 || d->Hq % d->Hkv != 0 || (d->causal && d->T > d->S)) return false;
  if (d->B == 0 || d->T == 0 || d->S == 0 || d->D == 0) return true;
  // last element of each view + 1 must fit its array
  double eq = d->q.off + (d->B - 1) * d->q.sB + (d->T - 1) * d->q.sT + (d->Hq - 1) * d->q.sH + d->D;
  double ek = d->k.off + (d->B - 1) * d->k.sB + (d->S - 1) * d->k.sT + (d->Hkv - 1) * d->k.sH + d->D;
  double ev = d->v.off + (d->B - 1) * d->v.sB + (d->S - 1) * d->v.sT + (d->Hkv - 1) * d->v.sH + d->D;
  return eq <= (double)lq && ek <= (double)lk && ev <= (double)lv;
}

static napi_value AttentionForward(napi_env env, napi_callback_info info) {
  ARGS(6);
  float *q, *k, *v, *out, *lse;
  size_t lq, lk, lv, lo, ll;
  strata_attn_dims d;
  if (!get_f32(env, argv[1], &q, &lq) || !get_f32(env, argv[2], &k, &lk) || !get_f32(env, argv[3], &v, &lv) || !get_f32(env, argv[4], &out, &lo) ||
      !get_f32(env, argv[5], &lse, &ll))
    FAIL_TYPE("attentionForward(dims, q, k, v, out, lse): bad arguments");
  if (!read_attn_dims(env, argv[0], &d, lq, lk, lv)) FAIL_RANGE("attentionForward: bad dims or a view does not fit its array");
  if (lo < (size_t)d.B * d.T * d.Hq * d.D || ll < (size_t)d.B * d.Hq * d.T) FAIL_RANGE("attentionForward: an output array is too short");
  if (strata_attention_fwd(&d, q, k, v, out, lse) != 0) FAIL_RANGE("attentionForward: out of memory");
  return NULL;
}

static napi_value AttentionBackward(napi_env env, napi_callback_info info) {
  ARGS(10);
  float *q, *k, *v, *dout, *out, *lse, *dq, *dk, *dv;
  size_t lq, lk, lv, ldo, lo, ll, ldq, ldk, ldv;
  strata_attn_dims d;
  if (!get_f32(env, argv[1], &q, &lq) || !get_f32(env, argv[2], &k, &lk) || !get_f32(env, argv[3], &v, &lv) || !get_f32(env, argv[4], &dout, &ldo) ||
      !get_f32(env, argv[5], &out, &lo) || !get_f32(env, argv[6], &lse, &ll) || !get_f32_or_null(env, argv[7], &dq, &ldq) ||
      !get_f32_or_null(env, argv[8], &dk, &ldk) || !get_f32_or_null(env, argv[9], &dv, &ldv))
    FAIL_TYPE("attentionBackward(dims, q, k, v, dout, out, lse, dq|null, dk|null, dv|null): bad arguments");
  if (!read_attn_dims(env, argv[0], &d, lq, lk, lv)) FAIL_RANGE("attentionBackward: bad dims or a view does not fit its array");
  size_t nq = (size_t)d.B * d.T * d.Hq * d.D, nkv = (size_t)d.B * d.S * d.Hkv * d.D;
  if (ldo < nq || lo < nq || ll < (size_t)d.B * d.Hq * d.T || (dq && ldq < nq) || (dk && ldk < nkv) || (dv && ldv < nkv))
    FAIL_RANGE("attentionBackward: an array is too short");
  if (strata_attention_bwd(&d, q, k, v, dout, out, lse, dq, dk, dv) != 0) FAIL_RANGE("attentionBackward: out of memory");
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double n;
  if (argc != 1 || !get_num(env, argv[0], &n) || !is_index(n) || n < 1 || n > 1024) {
    napi_throw_range_error(env, NULL, "setThreads(n): n must be an integer from 1 to 1024");
    return NULL;
  }
  openblas_set_num_threads((int)n);
  strata_set_pool_size((int)n);
  return NULL;
}

static napi_value GetThreads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_int32(env, strata_pool_size(), &out));
  return out;
}

static napi_value Config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  const char* cfg = openblas_get_config();
  CHECK(napi_create_string_utf8(env, cfg ? cfg : "", NAPI_AUTO_LENGTH, &out));
  return out;
}

napi_value strata_napi_qmatmul(napi_env env, napi_callback_info info);         // binding-ext.c
napi_value strata_napi_qmatmul_config(napi_env env, napi_callback_info info);  // binding-ext.c
void strata_tune_malloc(void);                                                 // binding-ext.c
napi_value strata_napi_adamw(napi_env env, napi_callback_info info);            // binding-ext.c
napi_value strata_napi_sum_squares(napi_env env, napi_callback_info info);      // binding-ext.c
napi_value strata_napi_scale(napi_env env, napi_callback_info info);            // binding-ext.c

static napi_value Init(napi_env env, napi_value exports) {
  strata_tune_malloc();
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sgemmBatch", NULL, SgemmBatch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rmsNormForward", NULL, RmsNormForward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rmsNormBackward", NULL, RmsNormBackward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"swigluForward", NULL, SwigluForward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"swigluBackward", NULL, SwigluBackward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"crossEntropyForward", NULL, CrossEntropyForward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"crossEntropyBackward", NULL, CrossEntropyBackward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"attentionForward", NULL, AttentionForward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"attentionBackward", NULL, AttentionBackward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getThreads", NULL, GetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, Config, NULL, NULL, NULL, napi_enumerable, NULL},
      {"qmatmul", NULL, strata_napi_qmatmul, NULL, NULL, NULL, napi_enumerable, NULL},
      {"qmatmulConfig", NULL, strata_napi_qmatmul_config, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adamw", NULL, strata_napi_adamw, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sumSquares", NULL, strata_napi_sum_squares, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scale", NULL, strata_napi_scale, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
