// The optimizer's loops over every parameter, fused: AdamW's update (decay, both moments and the
// step in one pass) and gradient clipping's sum of squares and scaling. They compute exactly what
// the plain-TS versions in src/tensor/kernels/optim.ts compute — float64 arithmetic, rounded to
// float32 when stored, no fused multiply-adds — so a run's weights do not depend on the backend;
// the gain is one pass per parameter in vector code split over the pool, not different arithmetic.

#pragma GCC optimize("fp-contract=off")

#include <stddef.h>

#include "kernels.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MULTIVERSION
#endif

typedef struct {
  float *p, *m, *v, *g;
  const float* gc;
  size_t n;
  strata_adamw_hp hp;
  double* partial;
  float scale;
} optim_ctx;

static size_t begin(size_t n, int part, int parts) { return (size_t)((double)n * part / parts); }
static int parts_of(size_t n) { return n < 65536 ? 1 : (int)(n / 65536); }

MULTIVERSION static void adamw_part(void* c_, int part, int parts) {
  optim_ctx* c = c_;
  const strata_adamw_hp h = c->hp;
  float *p = c->p, *m = c->m, *v = c->v;
  const float* g = c->gc;
  size_t i1 = begin(c->n, part + 1, parts);
#pragma omp simd
  for (size_t j = begin(c->n, part, parts); j < i1; j++) {
    double gj = g[j];
    float mj = (float)(h.b1 * (double)m[j] + h.c1 * gj);
    float vj = (float)(h.b2 * (double)v[j] + h.c2 * gj * gj);
    m[j] = mj;
    v[j] = vj;
    p[j] = (float)((double)p[j] * h.keep - (h.step_size * (double)mj) / (__builtin_sqrt((double)vj) / h.bc2_sqrt + h.eps));
  }
}

void strata_adamw(float* p, const float* g, float* m, float* v, size_t n, const strata_adamw_hp* hp) {
  optim_ctx c = {.p = p, .m = m, .v = v, .gc = g, .n = n, .hp = *hp};
  strata_run_parallel(adamw_part, &c, parts_of(n));
}

MULTIVERSION static void sumsq_part(void* c_, int part, int parts) {
  optim_ctx* c = c_;
  const float* g = c->gc;
  double s = 0;
  size_t i1 = begin(c->n, part + 1, parts);
#pragma omp simd reduction(+ : s)
  for (size_t j = begin(c->n, part, parts); j < i1; j++) s += (double)g[j] * (double)g[j];
  c->partial[part] = s;
}

double strata_sum_squares(const float* g, size_t n) {
  double partial[64] = {0};
  optim_ctx c = {.gc = g, .n = n, .partial = partial};
  int parts = parts_of(n);
  strata_run_parallel(sumsq_part, &c, parts > 64 ? 64 : parts);
  double s = 0;
  for (int i = 0; i < 64; i++) s += partial[i];
  return s;
}

MULTIVERSION static void scale_part(void* c_, int part, int parts) {
  optim_ctx* c = c_;
  float* g = c->g;
  const float s = c->scale;
  size_t i1 = begin(c->n, part + 1, parts);
#pragma omp simd
  for (size_t j = begin(c->n, part, parts); j < i1; j++) g[j] *= s;
}

void strata_scale(float* g, size_t n, float s) {
  optim_ctx c = {.g = g, .n = n, .scale = s};
  strata_run_parallel(scale_part, &c, parts_of(n));
}
