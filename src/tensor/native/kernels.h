// Strata's native row kernels (kernels.c), called from the N-API binding (binding.c).
#ifndef STRATA_KERNELS_H
#define STRATA_KERNELS_H
#include <stddef.h>
#include <stdint.h>

// A [B, T, H, D] view with a contiguous last dim: element (b, t, h, d) is at off + b·sB + t·sT + h·sH + d.
typedef struct {
  double off, sB, sT, sH;
} strata_view;

typedef struct {
  strata_view q, k, v;
  int B, T, S, Hq, Hkv, D;
  float scale;
  int causal;
} strata_attn_dims;

int strata_pool_size(void);
void strata_set_pool_size(int n);

void strata_rms_norm_fwd(const float* x, const float* w, float* y, float* rstd, size_t rows, size_t n, float eps);
int strata_rms_norm_bwd(const float* g, const float* x, const float* w, const float* rstd, float* dx, float* dw, size_t rows, size_t n);
void strata_swiglu_fwd(const float* a, const float* b, float* y, size_t n);
void strata_swiglu_bwd(const float* g, const float* a, const float* b, float* da, float* db, size_t n);
double strata_cross_entropy_fwd(const float* x, const int32_t* t, double* lse, size_t rows, size_t n, int32_t ignore);
void strata_cross_entropy_bwd(float scale, const float* x, const int32_t* t, const double* lse, float* dx, size_t rows, size_t n, int32_t ignore);
int strata_attention_fwd(const strata_attn_dims* d, const float* q, const float* k, const float* v, float* out, float* lse);
int strata_attention_bwd(const strata_attn_dims* d, const float* q, const float* k, const float* v, const float* dout, const float* out,
                         const float* lse, float* dq, float* dk, float* dv);
#endif
