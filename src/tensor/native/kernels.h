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

// Runs f(ctx, part, parts) for each part on the kernel pool (parts capped by its size).
void strata_run_parallel(void (*f)(void* ctx, int part, int parts), void* ctx, int parts);

// Quantized weights (quant.c): y [rows, out] = x [rows, in] · Wᵀ, W [out, in] in GGUF blocks. 0 on success.
enum { STRATA_Q8_0 = 8, STRATA_Q4_0 = 2 };
int strata_qmatmul(int type, const uint8_t* w, size_t out, size_t in, const float* x, size_t rows, float* y);
void strata_qmatmul_force_portable(int on);
const char* strata_qmatmul_isa(void);

// The optimizer's fused loops (optim.c), in float64 like src/tensor/kernels/optim.ts.
typedef struct {
  double b1, b2, c1, c2, keep, step_size, bc2_sqrt, eps;
} strata_adamw_hp;
void strata_adamw(float* p, const float* g, float* m, float* v, size_t n, const strata_adamw_hp* hp);
double strata_sum_squares(const float* g, size_t n);
void strata_scale(float* g, size_t n, float s);
#endif
