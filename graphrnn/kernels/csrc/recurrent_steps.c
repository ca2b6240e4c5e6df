/* One step of the LSTM family's, the GRU's and the tanh SRN's gate arithmetic, forward and
 * backward, in one pass over the step's rows: what graphrnn's chain kernels otherwise run as one
 * to a dozen PyTorch pointwise kernels a step (each of them ~4 us of dispatch at batch 8, and
 * tanh several times slower than sigmoid on some builds). The recurrent matrix product stays
 * with PyTorch; this file only holds the elementwise part, so it needs no PyTorch or Python
 * headers and compiles in well under a second (graphrnn/kernels/native_build.py builds it,
 * native.py verifies and loads it; ctypes calls it).
 *
 * LSTM layout (every array row-major and contiguous, n rows):
 *   a      (n, G*H) gates in the kernel's order [o, i, f, g] (G = 4) or [o, i, g] (G = 3):
 *          pre-activations in, activations out (forward); activations in (backward)
 *   cp     (n, H) the previous cell state c_{t-1};  c, tc, h  (n, H) c_t, tanh(c_t), h_t
 *   dh     (n, H) the gradient reaching h_t;  dc (n, H) the gradient reaching c_t, replaced by
 *          the one reaching c_{t-1};  dpre (n, G*H) the gradients of the pre-activations
 *   w_ci, w_cf, w_co  (H) peephole weights, or NULL
 *   grad_peep  (3, H) doubles, with peepholes: the step adds the gradients of w_ci, w_cf, w_co
 *          (sums over rows of the gate gradients times c_{t-1}, c_{t-1}, c_t) to them, in double
 *          precision as they sum over every step
 * mode: 0 forget gate, c_t = f c_{t-1} + i g;  1 coupled, f = 1 - i;  2 no forget gate, f = 1.
 *
 * GRU (reset gate after the product, as torch.nn.GRU), gates [r, z, n]:
 *   a      (n, 3H) gx = W_ih x + b in (pre-activations), activations out (forward); in (backward)
 *   gh     (n, 3H) W_hh h_{t-1} + [0, 0, b_hn];  ghn (n, H) receives (forward) / holds its n part
 *   hp     (n, H) h_{t-1};  h (n, H) receives h_t = n + z (h_{t-1} - n)
 *   dh     (n, H) the gradient reaching h_t, replaced by its part that reaches h_{t-1} directly
 *          (dh z); d (n, 4H) receives [d gh_n, d r, d z, d n] (pre-activation gradients)
 *
 * Elman SRN with tanh: h (count) pre-activations in, tanh out (forward); backward, dp (count)
 * receives dh (1 - h^2).
 */
#include <math.h>

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* fn(args..., mode, peephole) with both as compile-time constants, one specialised loop per
 * LSTM variant: no branch inside the vectorised loop */
#define CALL_VARIANT(mode, peephole, fn, ...)                                                    \
    switch ((mode) * 2 + (peephole)) {                                                            \
    case 0: fn(__VA_ARGS__, 0, 0); break;                                                         \
    case 1: fn(__VA_ARGS__, 0, 1); break;                                                         \
    case 2: fn(__VA_ARGS__, 1, 0); break;                                                         \
    case 3: fn(__VA_ARGS__, 1, 1); break;                                                         \
    case 4: fn(__VA_ARGS__, 2, 0); break;                                                         \
    case 5: fn(__VA_ARGS__, 2, 1); break;                                                         \
    }

#define DEFINE_STEPS(T, SFX, EXP, TANH)                                                          \
ALWAYS_INLINE T sigmoid_##SFX(T x) { return (T)1 / ((T)1 + EXP(-x)); }                            \
                                                                                                  \
ALWAYS_INLINE void forward_rows_##SFX(T *a, const T *cp, T *c, T *tc, T *h, const T *w_ci,        \
                                      const T *w_cf, const T *w_co, long n, long H,               \
                                      const int mode, const int peephole) {                       \
    const long G = mode == 0 ? 4 : 3;                                                             \
    for (long b = 0; b < n; b++) {                                                                \
        T *ao = a + b * G * H, *ai = ao + H, *af = ao + 2 * H, *ag = ao + (G - 1) * H;            \
        const T *cpb = cp + b * H;                                                                \
        T *cb = c + b * H, *tb = tc + b * H, *hb = h + b * H;                                     \
        _Pragma("omp simd")                                                                       \
        for (long j = 0; j < H; j++) {                                                            \
            T prev = cpb[j], pi = ai[j], po = ao[j];                                              \
            if (peephole) pi += w_ci[j] * prev;                                                   \
            T i = sigmoid_##SFX(pi), g = TANH(ag[j]), cn;                                         \
            if (mode == 0) {                                                                      \
                T pf = af[j];                                                                     \
                if (peephole) pf += w_cf[j] * prev;                                               \
                T f = sigmoid_##SFX(pf);                                                          \
                af[j] = f;                                                                        \
                cn = f * prev + i * g;                                                            \
            } else if (mode == 1) {                                                               \
                cn = prev - i * prev + i * g;                                                     \
            } else {                                                                              \
                cn = prev + i * g;                                                                \
            }                                                                                     \
            if (peephole) po += w_co[j] * cn;                                                     \
            T o = sigmoid_##SFX(po), t = TANH(cn);                                                \
            ao[j] = o; ai[j] = i; ag[j] = g;                                                      \
            cb[j] = cn; tb[j] = t; hb[j] = o * t;                                                 \
        }                                                                                         \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
ALWAYS_INLINE void backward_rows_##SFX(const T *a, const T *cp, const T *c, const T *tc,          \
                                       const T *dh, T *dc, T *dpre, const T *w_ci,                \
                                       const T *w_cf, const T *w_co, double *grad_peep, long n,   \
                                       long H, const int mode, const int peephole) {              \
    const long G = mode == 0 ? 4 : 3;                                                             \
    for (long b = 0; b < n; b++) {                                                                \
        const T *ao = a + b * G * H, *ai = ao + H, *af = ao + 2 * H, *ag = ao + (G - 1) * H;      \
        T *d_o = dpre + b * G * H, *d_i = d_o + H, *d_f = d_o + 2 * H, *d_g = d_o + (G - 1) * H;  \
        const T *cpb = cp + b * H, *cb = c + b * H, *tb = tc + b * H, *dhb = dh + b * H;          \
        T *dcb = dc + b * H;                                                                      \
        _Pragma("omp simd")                                                                       \
        for (long j = 0; j < H; j++) {                                                            \
            T o = ao[j], i = ai[j], g = ag[j], t = tb[j], prev = cpb[j], grad_h = dhb[j];         \
            T po = grad_h * t * o * ((T)1 - o);                                                   \
            T grad_c = dcb[j] + grad_h * o * ((T)1 - t * t);                                      \
            if (peephole) grad_c += po * w_co[j];                                                 \
            T pi = grad_c * (mode == 1 ? g - prev : g) * i * ((T)1 - i);                          \
            T pg = grad_c * i * ((T)1 - g * g);                                                   \
            T carry;                                                                              \
            if (mode == 0) {                                                                      \
                T f = af[j];                                                                      \
                T pf = grad_c * prev * f * ((T)1 - f);                                            \
                d_f[j] = pf;                                                                      \
                carry = grad_c * f;                                                               \
                if (peephole) {                                                                   \
                    carry += pf * w_cf[j];                                                        \
                    grad_peep[H + j] += (double)(pf * prev);                                      \
                }                                                                                 \
            } else {                                                                              \
                carry = mode == 1 ? grad_c * ((T)1 - i) : grad_c;                                 \
            }                                                                                     \
            if (peephole) {                                                                       \
                carry += pi * w_ci[j];                                                            \
                grad_peep[j] += (double)(pi * prev);                                              \
                grad_peep[2 * H + j] += (double)(po * cb[j]);                                     \
            }                                                                                     \
            d_o[j] = po; d_i[j] = pi; d_g[j] = pg;                                                \
            dcb[j] = carry;                                                                       \
        }                                                                                         \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
void graphrnn_lstm_forward_##SFX(T *a, const T *cp, T *c, T *tc, T *h, const T *w_ci,             \
                                 const T *w_cf, const T *w_co, long n, long H, int mode) {        \
    CALL_VARIANT(mode, w_ci != 0, forward_rows_##SFX, a, cp, c, tc, h, w_ci, w_cf, w_co, n, H)    \
}                                                                                                 \
                                                                                                  \
void graphrnn_lstm_backward_##SFX(const T *a, const T *cp, const T *c, const T *tc, const T *dh,  \
                                  T *dc, T *dpre, const T *w_ci, const T *w_cf, const T *w_co,    \
                                  double *grad_peep, long n, long H, int mode) {                  \
    CALL_VARIANT(mode, w_ci != 0, backward_rows_##SFX, a, cp, c, tc, dh, dc, dpre, w_ci, w_cf,    \
                 w_co, grad_peep, n, H)                                                           \
}

#define DEFINE_GRU(T, SFX, EXP, TANH)                                                            \
void graphrnn_gru_forward_##SFX(T *a, const T *gh, const T *hp, T *ghn, T *h, long n, long H) {   \
    for (long b = 0; b < n; b++) {                                                                \
        T *ar = a + b * 3 * H, *az = ar + H, *an = ar + 2 * H;                                    \
        const T *gr = gh + b * 3 * H, *gz = gr + H, *gn = gr + 2 * H, *hpb = hp + b * H;          \
        T *gnb = ghn + b * H, *hb = h + b * H;                                                    \
        _Pragma("omp simd")                                                                       \
        for (long j = 0; j < H; j++) {                                                            \
            T r = sigmoid_##SFX(ar[j] + gr[j]), z = sigmoid_##SFX(az[j] + gz[j]);                 \
            T nn = TANH(an[j] + r * gn[j]);                                                       \
            ar[j] = r; az[j] = z; an[j] = nn; gnb[j] = gn[j];                                     \
            hb[j] = nn + z * (hpb[j] - nn);                                                       \
        }                                                                                         \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
void graphrnn_gru_backward_##SFX(const T *a, const T *ghn, const T *hp, T *dh, T *d, long n,      \
                                 long H) {                                                        \
    for (long b = 0; b < n; b++) {                                                                \
        const T *ar = a + b * 3 * H, *az = ar + H, *an = ar + 2 * H;                              \
        const T *gnb = ghn + b * H, *hpb = hp + b * H;                                            \
        T *dhb = dh + b * H, *dg = d + b * 4 * H, *dr = dg + H, *dz = dg + 2 * H, *dn = dg + 3 * H;\
        _Pragma("omp simd")                                                                       \
        for (long j = 0; j < H; j++) {                                                            \
            T r = ar[j], z = az[j], nn = an[j], grad = dhb[j];                                    \
            T pn = grad * ((T)1 - z) * ((T)1 - nn * nn);                                          \
            dn[j] = pn;                                                                           \
            dg[j] = pn * r;                                                                       \
            dr[j] = pn * gnb[j] * r * ((T)1 - r);                                                 \
            dz[j] = grad * (hpb[j] - nn) * z * ((T)1 - z);                                        \
            dhb[j] = grad * z;                                                                    \
        }                                                                                         \
    }                                                                                             \
}

#define DEFINE_SRN(T, SFX, TANH)                                                                 \
void graphrnn_srn_forward_##SFX(T *h, long count) {                                               \
    _Pragma("omp simd")                                                                           \
    for (long k = 0; k < count; k++) h[k] = TANH(h[k]);                                           \
}                                                                                                 \
                                                                                                  \
void graphrnn_srn_backward_##SFX(const T *h, const T *dh, T *dp, long count) {                    \
    _Pragma("omp simd")                                                                           \
    for (long k = 0; k < count; k++) dp[k] = dh[k] * ((T)1 - h[k] * h[k]);                        \
}

DEFINE_STEPS(float, f32, expf, tanhf)
DEFINE_STEPS(double, f64, exp, tanh)
DEFINE_GRU(float, f32, expf, tanhf)
DEFINE_GRU(double, f64, exp, tanh)
DEFINE_SRN(float, f32, tanhf)
DEFINE_SRN(double, f64, tanh)
