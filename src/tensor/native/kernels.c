// Strata's native row kernels: RMSNorm, SwiGLU, cross-entropy and causal grouped-query attention,
// forward and backward, split across a small pool of threads (one per core by default). They
// compute what the plain-TS kernels in src/tensor/kernels/ compute (rows.ts, attention.ts) and are
// tested against them. Hot loops are compiled for AVX-512, AVX2 and baseline x86-64 and picked at
// load time (GCC target_clones), so one build runs on any x86-64 machine.
//
// Plain C, no N-API: binding.c checks every array length before calling in here.

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MULTIVERSION
#endif

// ---------------------------------------------------------------------------------------------
// Thread pool: the caller runs part 0, workers run parts 1..n-1; run_parallel returns when all are
// done. One job at a time (a second caller, e.g. another Node worker thread, runs single-threaded).

#define MAX_THREADS 16
typedef void (*part_fn)(void* ctx, int part, int parts);

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_go = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static part_fn job_fn;
static void* job_ctx;
static int job_parts;
static unsigned long job_gen;
static int job_remaining;
static int workers_alive;
static int pool_size = 0;  // 0: not chosen yet

static void* worker_main(void* arg) {
  int id = (int)(intptr_t)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&pool_mu);
  for (;;) {
    while (job_gen == seen) pthread_cond_wait(&pool_go, &pool_mu);
    seen = job_gen;
    if (id < job_parts) {
      part_fn f = job_fn;
      void* c = job_ctx;
      int parts = job_parts;
      pthread_mutex_unlock(&pool_mu);
      f(c, id, parts);
      pthread_mutex_lock(&pool_mu);
      if (--job_remaining == 0) pthread_cond_signal(&pool_done);
    }
  }
  return NULL;
}

int strata_pool_size(void) {
  if (pool_size == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    pool_size = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
  }
  return pool_size;
}

void strata_set_pool_size(int n) { pool_size = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n; }

// Runs f over `parts` parts (capped by the pool size; 1 runs inline).
static void run_parallel(part_fn f, void* ctx, int parts) {
  int size = strata_pool_size();
  if (parts > size) parts = size;
  if (parts <= 1 || pthread_mutex_trylock(&job_lock) != 0) {
    f(ctx, 0, 1);
    return;
  }
  pthread_mutex_lock(&pool_mu);
  while (workers_alive < parts - 1) {
    pthread_t t;
    if (pthread_create(&t, NULL, worker_main, (void*)(intptr_t)(workers_alive + 1)) != 0) break;
    pthread_detach(t);
    workers_alive++;
  }
  if (workers_alive < parts - 1) parts = workers_alive + 1;
  job_fn = f;
  job_ctx = ctx;
  job_parts = parts;
  job_remaining = parts - 1;
  job_gen++;
  pthread_cond_broadcast(&pool_go);
  pthread_mutex_unlock(&pool_mu);
  f(ctx, 0, parts);
  pthread_mutex_lock(&pool_mu);
  while (job_remaining > 0) pthread_cond_wait(&pool_done, &pool_mu);
  pthread_mutex_unlock(&pool_mu);
  pthread_mutex_unlock(&job_lock);
}

void strata_run_parallel(void (*f)(void* ctx, int part, int parts), void* ctx, int parts) { run_parallel(f, ctx, parts); }

// Parts for a job of `work` elementary operations: one per ~64k, at most the pool size.
static int parts_for(double work) {
  int p = (int)(work / 65536.0);
  return p < 1 ? 1 : p;
}

static size_t part_begin(size_t n, int part, int parts) { return (size_t)((double)n * part / parts); }

// ---------------------------------------------------------------------------------------------
// Vector helpers

// Helpers are inlined into the multiversioned kernels below, so each clone vectorizes them for its ISA.
static inline float dot(const float* a, const float* b, size_t n) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

static inline void axpy(float alpha, const float* x, float* y, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

// e^x in float32 that the compiler can vectorize (expf from libm is a scalar call): x = n·ln2 + r
// with |r| ≤ ln2/2 (Cody–Waite, n rounded by the 1.5·2^23 trick), e^r by a degree-6 polynomial
// (Cephes' expf coefficients), 2^n by building the exponent bits. Relative error ≈ 2e-7;
// below −87.3 it returns 0 (e^x would be denormal), above 88.7 +inf; NaN stays NaN.
static inline float exp_vec(float x) {
  const float magic = 12582912.0f;  // 1.5·2^23
  float xc = x < -87.3f ? -87.3f : x > 88.7f ? 88.7f : x;
  float t = xc * 1.44269504088896341f + magic;
  float n = t - magic;
  float r = xc - n * 0.693359375f - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  int32_t bits;
  memcpy(&bits, &t, sizeof bits);
  bits = (bits - 0x4B400000 + 127) << 23;  // n + 127 in the exponent field
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  float e = y * scale;
  e = x < -87.3f ? 0.0f : e;
  e = x > 88.7f ? INFINITY : e;
  return x != x ? x : e;
}

// p[j] = e^(p[j] − m) for j < n; returns Σ p[j] (float64).
static inline double exp_shift_sum(float* p, size_t n, float m) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (size_t j = 0; j < n; j++) {
    float e = exp_vec(p[j] - m);
    p[j] = e;
    s += e;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// RMSNorm

typedef struct {
  const float *x, *w, *g, *rstd_in;
  float *y, *rstd, *dx;
  double* dw_parts;  // [parts][n]
  size_t rows, n;
  float eps;
} rms_ctx;

MULTIVERSION static void rms_fwd_part(void* c_, int part, int parts) {
  rms_ctx* c = c_;
  size_t n = c->n;
  for (size_t r = part_begin(c->rows, part, parts); r < part_begin(c->rows, part + 1, parts); r++) {
    const float* x = c->x + r * n;
    float* y = c->y + r * n;
    float ss = dot(x, x, n);
    float rs = 1.0f / sqrtf(ss / (float)n + c->eps);
    c->rstd[r] = rs;
#pragma omp simd
    for (size_t j = 0; j < n; j++) y[j] = x[j] * rs * c->w[j];
  }
}

MULTIVERSION static void rms_bwd_part(void* c_, int part, int parts) {
  rms_ctx* c = c_;
  size_t n = c->n;
  double* dw = c->dw_parts ? c->dw_parts + (size_t)part * n : NULL;
  for (size_t r = part_begin(c->rows, part, parts); r < part_begin(c->rows, part + 1, parts); r++) {
    const float* x = c->x + r * n;
    const float* g = c->g + r * n;
    float rs = c->rstd_in[r];
    if (c->dx) {
      float d = 0;
#pragma omp simd reduction(+ : d)
      for (size_t j = 0; j < n; j++) d += g[j] * c->w[j] * x[j];
      float k = d * rs * rs / (float)n;
      float* dx = c->dx + r * n;
#pragma omp simd
      for (size_t j = 0; j < n; j++) dx[j] = rs * (g[j] * c->w[j] - x[j] * k);
    }
    if (dw) {
#pragma omp simd
      for (size_t j = 0; j < n; j++) dw[j] += (double)(g[j] * x[j] * rs);
    }
  }
}

void strata_rms_norm_fwd(const float* x, const float* w, float* y, float* rstd, size_t rows, size_t n, float eps) {
  rms_ctx c = {.x = x, .w = w, .y = y, .rstd = rstd, .rows = rows, .n = n, .eps = eps};
  run_parallel(rms_fwd_part, &c, parts_for((double)rows * n));
}

// dw (n floats) is written, not accumulated; dx or dw may be NULL.
int strata_rms_norm_bwd(const float* g, const float* x, const float* w, const float* rstd, float* dx, float* dw, size_t rows, size_t n) {
  int parts = parts_for((double)rows * n);
  if (parts > strata_pool_size()) parts = strata_pool_size();
  if ((size_t)parts > rows) parts = rows < 1 ? 1 : (int)rows;
  double* dw_parts = NULL;
  if (dw) {
    dw_parts = calloc((size_t)parts * n, sizeof(double));
    if (!dw_parts) return -1;
  }
  rms_ctx c = {.g = g, .x = x, .w = w, .rstd_in = rstd, .dx = dx, .dw_parts = dw_parts, .rows = rows, .n = n};
  run_parallel(rms_bwd_part, &c, parts);
  if (dw) {
    for (size_t j = 0; j < n; j++) {
      double s = 0;
      for (int p = 0; p < parts; p++) s += dw_parts[(size_t)p * n + j];
      dw[j] = (float)s;
    }
    free(dw_parts);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// SwiGLU: y = silu(a) * b

typedef struct {
  const float *a, *b, *g;
  float *y, *da, *db;
  size_t n;
} swiglu_ctx;

MULTIVERSION static void swiglu_fwd_part(void* c_, int part, int parts) {
  swiglu_ctx* c = c_;
  const float *a = c->a, *b = c->b;
  float* y = c->y;
  size_t i1 = part_begin(c->n, part + 1, parts);
#pragma omp simd
  for (size_t i = part_begin(c->n, part, parts); i < i1; i++) {
    float v = a[i];
    y[i] = v / (1.0f + exp_vec(-v)) * b[i];
  }
}

MULTIVERSION static void swiglu_bwd_part(void* c_, int part, int parts) {
  swiglu_ctx* c = c_;
  const float *a = c->a, *b = c->b, *g = c->g;
  float *da = c->da, *db = c->db;
  size_t i0 = part_begin(c->n, part, parts), i1 = part_begin(c->n, part + 1, parts);
  if (da && db) {
#pragma omp simd
    for (size_t i = i0; i < i1; i++) {
      float v = a[i];
      float s = 1.0f / (1.0f + exp_vec(-v));
      da[i] = g[i] * b[i] * s * (1.0f + v * (1.0f - s));
      db[i] = g[i] * v * s;
    }
  } else if (da) {
#pragma omp simd
    for (size_t i = i0; i < i1; i++) {
      float v = a[i];
      float s = 1.0f / (1.0f + exp_vec(-v));
      da[i] = g[i] * b[i] * s * (1.0f + v * (1.0f - s));
    }
  } else if (db) {
#pragma omp simd
    for (size_t i = i0; i < i1; i++) {
      float v = a[i];
      db[i] = g[i] * v / (1.0f + exp_vec(-v));
    }
  }
}

void strata_swiglu_fwd(const float* a, const float* b, float* y, size_t n) {
  swiglu_ctx c = {.a = a, .b = b, .y = y, .n = n};
  run_parallel(swiglu_fwd_part, &c, parts_for((double)n * 8));
}

void strata_swiglu_bwd(const float* g, const float* a, const float* b, float* da, float* db, size_t n) {
  swiglu_ctx c = {.g = g, .a = a, .b = b, .da = da, .db = db, .n = n};
  run_parallel(swiglu_bwd_part, &c, parts_for((double)n * 8));
}

// ---------------------------------------------------------------------------------------------
// Cross-entropy over rows of logits, skipping ignored targets

typedef struct {
  const float* x;
  const int32_t* t;
  double* lse;
  double* loss_parts;
  float* dx;
  size_t rows, n;
  int32_t ignore;
  float scale;
} ce_ctx;

static inline float row_max(const float* x, size_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (size_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m;
  return m;
}

static inline double row_lse(const float* x, size_t n) {
  float m = row_max(x, n);
  if (isinf(m)) return m;
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (size_t j = 0; j < n; j++) s += exp_vec(x[j] - m);
  return m + log((double)s);
}

// dx[j] = e^(x[j] − l) · scale
static inline void scaled_softmax_row(const float* x, float* dx, size_t n, float l, float scale) {
#pragma omp simd
  for (size_t j = 0; j < n; j++) dx[j] = exp_vec(x[j] - l) * scale;
}

MULTIVERSION static void ce_fwd_part(void* c_, int part, int parts) {
  ce_ctx* c = c_;
  double total = 0;
  for (size_t r = part_begin(c->rows, part, parts); r < part_begin(c->rows, part + 1, parts); r++) {
    int32_t t = c->t[r];
    if (t == c->ignore) continue;
    const float* x = c->x + r * c->n;
    double l = row_lse(x, c->n);
    c->lse[r] = l;
    total += l - x[t];
  }
  c->loss_parts[part] = total;
}

MULTIVERSION static void ce_bwd_part(void* c_, int part, int parts) {
  ce_ctx* c = c_;
  for (size_t r = part_begin(c->rows, part, parts); r < part_begin(c->rows, part + 1, parts); r++) {
    float* dx = c->dx + r * c->n;
    int32_t t = c->t[r];
    if (t == c->ignore) {
      memset(dx, 0, c->n * sizeof(float));
      continue;
    }
    const float* x = c->x + r * c->n;
    float l = (float)c->lse[r];
    scaled_softmax_row(x, dx, c->n, l, c->scale);
    dx[t] -= c->scale;
  }
}

// Returns the summed loss over counted rows; targets must be valid (checked by the caller).
double strata_cross_entropy_fwd(const float* x, const int32_t* t, double* lse, size_t rows, size_t n, int32_t ignore) {
  double parts_loss[MAX_THREADS] = {0};
  ce_ctx c = {.x = x, .t = t, .lse = lse, .loss_parts = parts_loss, .rows = rows, .n = n, .ignore = ignore};
  run_parallel(ce_fwd_part, &c, parts_for((double)rows * n * 4));
  double total = 0;
  for (int p = 0; p < MAX_THREADS; p++) total += parts_loss[p];
  return total;
}

void strata_cross_entropy_bwd(float scale, const float* x, const int32_t* t, const double* lse, float* dx, size_t rows, size_t n, int32_t ignore) {
  ce_ctx c = {.x = x, .t = t, .lse = (double*)lse, .dx = dx, .rows = rows, .n = n, .ignore = ignore, .scale = scale};
  run_parallel(ce_bwd_part, &c, parts_for((double)rows * n * 4));
}

// ---------------------------------------------------------------------------------------------
// Causal grouped-query attention, [B, T, H, D] views, one task per (batch, kv head). Each task
// copies its K (and V) transposed to [D, S], so a row of scores is D axpys over the keys
// (vectorized across keys, no horizontal sums); outputs and key/value gradients are axpys over D.

typedef struct {
  const strata_attn_dims* d;
  const float *q, *k, *v, *dout, *out;
  float *o, *lse, *dq, *dk, *dv;
  float* scratch;  // per part: KT [D·S], VT [D·S], p [S], dp [S]
  size_t scratch_per_part;
} attn_ctx;

#define QROW(c, b, t, h) ((c)->q + (size_t)((c)->d->q.off + (b) * (c)->d->q.sB + (t) * (c)->d->q.sT + (h) * (c)->d->q.sH))
#define KROW(c, b, t, h) ((c)->k + (size_t)((c)->d->k.off + (b) * (c)->d->k.sB + (t) * (c)->d->k.sT + (h) * (c)->d->k.sH))
#define VROW(c, b, t, h) ((c)->v + (size_t)((c)->d->v.off + (b) * (c)->d->v.sB + (t) * (c)->d->v.sT + (h) * (c)->d->v.sH))

// xt[d·S + j] = row j of (b, g), d < D
static inline void transpose_rows(const attn_ctx* c, const float* base, double sT, size_t S, size_t D, float* xt) {
  for (size_t j = 0; j < S; j++) {
    const float* r = base + (size_t)(j * sT);
    for (size_t e = 0; e < D; e++) xt[e * S + j] = r[e];
  }
  (void)c;
}

// p[j] = scale · Σ_e x[e] · mt[e·S + j] for j < n
static inline void row_times_t(const float* x, const float* mt, size_t S, size_t D, size_t n, float scale, float* p) {
  memset(p, 0, n * sizeof(float));
  for (size_t e = 0; e < D; e++) axpy(scale * x[e], mt + e * S, p, n);
}

MULTIVERSION static void attn_fwd_part(void* c_, int part, int parts) {
  attn_ctx* c = c_;
  const strata_attn_dims* d = c->d;
  size_t tasks = (size_t)d->B * d->Hkv, S = d->S, D = d->D;
  int group = d->Hq / d->Hkv;
  float* kt = c->scratch + (size_t)part * c->scratch_per_part;
  float* p = kt + 2 * D * S;
  for (size_t task = part_begin(tasks, part, parts); task < part_begin(tasks, part + 1, parts); task++) {
    int b = (int)(task / d->Hkv), g = (int)(task % d->Hkv);
    transpose_rows(c, KROW(c, b, 0, g), d->k.sT, S, D, kt);
    for (int h = g * group; h < (g + 1) * group; h++) {
      for (int i = 0; i < d->T; i++) {
        size_t n = (size_t)(d->causal ? d->S - d->T + i : d->S - 1) + 1;  // visible keys
        row_times_t(QROW(c, b, i, h), kt, S, D, n, d->scale, p);
        float m = row_max(p, n);
        double s = exp_shift_sum(p, n, m);
        float inv = (float)(1.0 / s);
        float* o = c->o + (((size_t)b * d->T + i) * d->Hq + h) * D;
        memset(o, 0, D * sizeof(float));
        for (size_t j = 0; j < n; j++) axpy(p[j] * inv, VROW(c, b, j, g), o, D);
        c->lse[((size_t)b * d->Hq + h) * d->T + i] = m + (float)log(s);
      }
    }
  }
}

MULTIVERSION static void attn_bwd_part(void* c_, int part, int parts) {
  attn_ctx* c = c_;
  const strata_attn_dims* d = c->d;
  size_t tasks = (size_t)d->B * d->Hkv, S = d->S, D = d->D;
  int group = d->Hq / d->Hkv;
  float* kt = c->scratch + (size_t)part * c->scratch_per_part;
  float* vt = kt + D * S;
  float* p = vt + D * S;
  float* dp = p + S;
  for (size_t task = part_begin(tasks, part, parts); task < part_begin(tasks, part + 1, parts); task++) {
    int b = (int)(task / d->Hkv), g = (int)(task % d->Hkv);
    transpose_rows(c, KROW(c, b, 0, g), d->k.sT, S, D, kt);
    transpose_rows(c, VROW(c, b, 0, g), d->v.sT, S, D, vt);
    for (int h = g * group; h < (g + 1) * group; h++) {
      for (int i = 0; i < d->T; i++) {
        size_t n = (size_t)(d->causal ? d->S - d->T + i : d->S - 1) + 1;
        const float* qi = QROW(c, b, i, h);
        size_t orow = (((size_t)b * d->T + i) * d->Hq + h) * D;
        const float* doi = c->dout + orow;
        float rowdot = dot(doi, c->out + orow, D);
        row_times_t(qi, kt, S, D, n, d->scale, p);
        exp_shift_sum(p, n, c->lse[((size_t)b * d->Hq + h) * d->T + i]);  // P row
        if (c->dv)
          for (size_t j = 0; j < n; j++) axpy(p[j], doi, c->dv + (((size_t)b * S + j) * d->Hkv + g) * D, D);
        if (!c->dq && !c->dk) continue;
        row_times_t(doi, vt, S, D, n, 1.0f, dp);  // dP row = dO_i · V_j
#pragma omp simd
        for (size_t j = 0; j < n; j++) dp[j] = p[j] * (dp[j] - rowdot) * d->scale;  // scale · dS
        if (c->dq) {
          float* dqi = c->dq + orow;
          for (size_t j = 0; j < n; j++) axpy(dp[j], KROW(c, b, j, g), dqi, D);
        }
        if (c->dk)
          for (size_t j = 0; j < n; j++) axpy(dp[j], qi, c->dk + (((size_t)b * S + j) * d->Hkv + g) * D, D);
      }
    }
  }
}

static size_t attn_scratch(const strata_attn_dims* d) { return 2 * (size_t)d->D * d->S + 2 * (size_t)d->S + 16; }

int strata_attention_fwd(const strata_attn_dims* d, const float* q, const float* k, const float* v, float* out, float* lse) {
  int parts = parts_for((double)d->B * d->Hq * d->T * d->S * d->D * 2);
  size_t per = attn_scratch(d);
  float* scratch = malloc(sizeof(float) * (size_t)MAX_THREADS * per);
  if (!scratch) return -1;
  attn_ctx c = {.d = d, .q = q, .k = k, .v = v, .o = out, .lse = lse, .scratch = scratch, .scratch_per_part = per};
  run_parallel(attn_fwd_part, &c, parts > d->B * d->Hkv ? d->B * d->Hkv : parts);
  free(scratch);
  return 0;
}

// dq, dk, dv (contiguous [B,T,Hq,D] / [B,S,Hkv,D], zeroed by the caller) may be NULL.
int strata_attention_bwd(const strata_attn_dims* d, const float* q, const float* k, const float* v, const float* dout, const float* out,
                         const float* lse, float* dq, float* dk, float* dv) {
  int parts = parts_for((double)d->B * d->Hq * d->T * d->S * d->D * 5);
  size_t per = attn_scratch(d);
  float* scratch = malloc(sizeof(float) * (size_t)MAX_THREADS * per);
  if (!scratch) return -1;
  attn_ctx c = {.d = d, .q = q, .k = k, .v = v, .dout = dout, .out = out, .lse = (float*)lse, .dq = dq, .dk = dk, .dv = dv, .scratch = scratch, .scratch_per_part = per};
  run_parallel(attn_bwd_part, &c, parts > d->B * d->Hkv ? d->B * d->Hkv : parts);
  free(scratch);
  return 0;
}
