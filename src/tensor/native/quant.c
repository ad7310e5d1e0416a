// Products with weights kept in GGUF's quantized blocks (Q8_0, Q4_0): y[r, o] = Σ_i W[o, i] · x[r, i]
// for W [out, in] stored as in/32 blocks per row. As llama.cpp does on CPUs, each row of x is first
// quantized to Q8_0 blocks (scale amax/127, rounded to an IEEE half; values rounded to int8), so a
// block's dot product is an exact int32 sum scaled once by d_w·d_x. The weights are read once per
// call at ~1.06 (Q8_0) or ~0.56 (Q4_0) bytes per value instead of 4 for float32: a decoding step,
// which streams every weight for one row, is memory-bound, so this is where its time goes.
//
// Two versions of the block dot: AVX2 (+FMA, F16C), picked at run time when the CPU has them, and
// portable C. src/tensor/kernels/quant.ts is the plain-TS reference both are tested against.

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

#define QK 32

// IEEE half → float, portable (subnormals included).
static inline float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    float f = (float)mant * (1.0f / 16777216.0f);  // mant · 2^-24
    return sign ? -f : f;
  }
  if (exp == 0x1f) bits = sign | 0x7f800000u | (mant << 13);
  else bits = sign | ((exp + 112) << 23) | (mant << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

// float → IEEE half, round to nearest even (what ggml's FP32_TO_FP16 does), for finite scales.
static inline uint16_t float_to_half(float f) {
  uint32_t bits;
  memcpy(&bits, &f, 4);
  uint32_t sign = (bits >> 16) & 0x8000, exp = (bits >> 23) & 0xff, mant = bits & 0x7fffff;
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
  int e = (int)exp - 127 + 15;
  if (e >= 0x1f) return (uint16_t)(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10) return (uint16_t)sign;
    uint32_t m = mant | 0x800000, shift = (uint32_t)(14 - e), half = 1u << (shift - 1), rest = m & ((1u << shift) - 1), h = m >> shift;
    if (rest > half || (rest == half && (h & 1))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = ((uint32_t)e << 10) | (mant >> 13), rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;
  return (uint16_t)(sign | h);
}

// One row of x as Q8_0: nb scales (already rounded through half) and nb·32 int8 values.
static void quantize_row(const float* x, size_t nb, float* d, int8_t* q) {
  for (size_t b = 0; b < nb; b++) {
    const float* xb = x + b * QK;
    float amax = 0;
    for (int j = 0; j < QK; j++) {
      float a = fabsf(xb[j]);
      if (a > amax) amax = a;
    }
    float s = amax / 127.0f, id = s != 0 ? 1.0f / s : 0.0f;
    d[b] = half_to_float(float_to_half(s));
    for (int j = 0; j < QK; j++) q[b * QK + j] = (int8_t)roundf(xb[j] * id);
  }
}

static inline size_t block_bytes(int type) { return type == STRATA_Q8_0 ? 34 : 18; }

// Σ over the nb blocks of one weight row and one quantized x row, portable.
static float dot_row_c(int type, const uint8_t* w, const float* xd, const int8_t* xq, size_t nb) {
  float sum = 0;
  for (size_t b = 0; b < nb; b++) {
    const uint8_t* blk = w + b * block_bytes(type);
    float dw = half_to_float((uint16_t)(blk[0] | (blk[1] << 8)));
    const int8_t* q = xq + b * QK;
    int32_t s = 0;
    if (type == STRATA_Q8_0) {
      const int8_t* wq = (const int8_t*)(blk + 2);
      for (int j = 0; j < QK; j++) s += (int32_t)wq[j] * q[j];
    } else {
      for (int j = 0; j < QK / 2; j++) {
        uint8_t v = blk[2 + j];
        s += ((int32_t)(v & 0x0f) - 8) * q[j] + ((int32_t)(v >> 4) - 8) * q[j + QK / 2];
      }
    }
    sum += (float)s * (dw * xd[b]);
  }
  return sum;
}

#if HAVE_X86
// The 32 weights of a block as signed bytes.
__attribute__((target("avx2,fma,f16c"))) static inline __m256i load_block(int type, const uint8_t* blk) {
  if (type == STRATA_Q8_0) return _mm256_loadu_si256((const __m256i*)(blk + 2));
  __m128i raw = _mm_loadu_si128((const __m128i*)(blk + 2));
  __m128i lo = _mm_and_si128(raw, _mm_set1_epi8(0x0f));
  __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), _mm_set1_epi8(0x0f));
  return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
}

__attribute__((target("avx2,fma,f16c"))) static float dot_row_avx2(int type, const uint8_t* w, const float* xd, const int8_t* xq, size_t nb) {
  const size_t bb = block_bytes(type);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const uint8_t* b0 = w + b * bb;
    const uint8_t* b1 = b0 + bb;
    __m256i w0 = load_block(type, b0), w1 = load_block(type, b1);
    __m256i x0 = _mm256_loadu_si256((const __m256i*)(xq + b * QK)), x1 = _mm256_loadu_si256((const __m256i*)(xq + (b + 1) * QK));
    // signed × signed through maddubs (unsigned × signed): |w| · (x with w's sign)
    __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(x0, w0)), ones);
    __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w1, w1), _mm256_sign_epi8(x1, w1)), ones);
    float s0 = _cvtsh_ss((unsigned short)(b0[0] | (b0[1] << 8))) * xd[b];
    float s1 = _cvtsh_ss((unsigned short)(b1[0] | (b1[1] << 8))) * xd[b + 1];
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(s0), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(s1), _mm256_cvtepi32_ps(p1), acc1);
  }
  for (; b < nb; b++) {
    const uint8_t* b0 = w + b * bb;
    __m256i w0 = load_block(type, b0);
    __m256i x0 = _mm256_loadu_si256((const __m256i*)(xq + b * QK));
    __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(x0, w0)), ones);
    float s0 = _cvtsh_ss((unsigned short)(b0[0] | (b0[1] << 8))) * xd[b];
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(s0), _mm256_cvtepi32_ps(p0), acc0);
  }
  __m256 acc = _mm256_add_ps(acc0, acc1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

#endif

typedef float (*dot_fn)(int, const uint8_t*, const float*, const int8_t*, size_t);

static dot_fn pick_dot(void) {
#if HAVE_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) return dot_row_avx2;
#endif
  return dot_row_c;
}

static int force_portable = 0;

void strata_qmatmul_force_portable(int on) { force_portable = on; }

const char* strata_qmatmul_isa(void) { return pick_dot() == dot_row_c || force_portable ? "portable C" : "AVX2"; }

typedef struct {
  int type;
  const uint8_t* w;
  size_t out, nb, rows;
  const float* xd;
  const int8_t* xq;
  float* y;
  dot_fn dot;
} qctx;

// Rows of W from this part's range, each against every row of x while it is in cache.
static void qmatmul_part(void* p, int part, int parts) {
  const qctx* c = (const qctx*)p;
  size_t o0 = (size_t)((double)c->out * part / parts), o1 = (size_t)((double)c->out * (part + 1) / parts);
  size_t rb = c->nb * block_bytes(c->type);
  for (size_t o = o0; o < o1; o++) {
    const uint8_t* wr = c->w + o * rb;
    for (size_t r = 0; r < c->rows; r++) c->y[r * c->out + o] = c->dot(c->type, wr, c->xd + r * c->nb, c->xq + r * c->nb * QK, c->nb);
  }
}

int strata_qmatmul(int type, const uint8_t* w, size_t out, size_t in, const float* x, size_t rows, float* y) {
  if (in % QK != 0 || (type != STRATA_Q8_0 && type != STRATA_Q4_0)) return 1;
  size_t nb = in / QK;
  if (rows == 0 || out == 0) return 0;
  float* xd = (float*)malloc(rows * nb * sizeof(float) + 1);
  int8_t* xq = (int8_t*)malloc(rows * in + 1);
  if (!xd || !xq) {
    free(xd);
    free(xq);
    return 2;
  }
  for (size_t r = 0; r < rows; r++) quantize_row(x + r * in, nb, xd + r * nb, xq + r * in);
  static dot_fn best = NULL;
  if (!best) best = pick_dot();
  qctx c = {type, w, out, nb, rows, xd, xq, y, force_portable ? dot_row_c : best};
  // One part per ~256 KiB of weights read: a decoding step's small products stay on one thread.
  double bytes = (double)out * nb * block_bytes(type) * (rows < 4 ? 1 : rows / 4.0);
  int parts = (int)(bytes / 262144.0);
  strata_run_parallel(qmatmul_part, &c, parts < 1 ? 1 : parts);
  free(xd);
  free(xq);
  return 0;
}
