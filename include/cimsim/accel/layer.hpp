#pragma once
// The accelerator's layer contract: operators, computing modes, layer shapes, CIM and requantization
// parameters. Shared by the datapath (models/accel/datapath), both SystemC abstraction levels, the host
// driver/runtime and the ENOS search/export. The exact integer semantics are in docs/accelerator-numerics.md;
// the summary here is normative where the doc is silent.
//
// Tensors: activations are int8, layout NCHW (batch, channel, row, column), per-tensor scale (zero point 0).
// Weights are integers stored unpacked here as int8 in OIHW order: [cout][cin/groups][kh][kw]. The
// reduction index of one output is r = (ci * kh + ky) * kw + kx (ci within the group), r in [0, K),
// K = cin/groups * kh * kw. Fully-connected layers are 1x1 convolutions on a 1x1 map with cin inputs.
// Padding inserts literal zeros into the int8 input before the operator (so e.g. ADDER sees -|0 - w|).
//
// Operators (acc is int32; x int8 input element, w the integer weight):
//   MAC8      w in [-127,127]                     acc += x * w
//   MAC4      w in [-7,7], x4 = clamp((x + 8) >> 4, -8, 7)      acc += x4 * w
//   BWN       w in {-1,+1}                        acc += w > 0 ? x : -x
//   XNOR      w in {-1,+1}, xb = x > 0 ? +1 : -1  acc += xb * w       (= 2*popcount(xnor) - K)
//   MF        w in [-127,127]                     acc += sign(x)*|w| + sign(w)*|x|   (sign(0) = 0)
//   DEEPSHIFT w in {0} U {+-2^e, e = 0..6}         acc += sign(w) * (x << e)
//   ADDER     w in [-127,127]                     acc += -|x - w|
// Computing modes:
//   DIGITAL   acc = sum over r of the operator term, exact.
//   CIM       (MAC4, BWN, XNOR, MF only) the K terms are split into chunks of `rows` consecutive r; each
//             chunk's partial sum p is digitized by a b-bit ADC whose full scale is +-adc_range:
//               v = p * 2^(b-1) / adc_range;  v *= gain[oc];  v += noise_lsb * n;  code = clamp(floor(v+0.5),
//               -2^(b-1), 2^(b-1)-1); acc = sum of codes.  (gain[oc] = 1 + gain_sigma * g_oc; n, g_oc standard
//               normals from CounterRng, see docs/accelerator-numerics.md for stream/index definitions.)
//             With adc_range = 2^(b-1), noise 0, gain 0 and |p| < 2^(b-1), CIM equals DIGITAL exactly.
// Requantization, per output channel oc (bias is added after the multiply, in units of 2^-shift[oc] output
// codes, so a folded BatchNorm bias keeps its fractional part):
//   y = clamp( floor( ((int128)acc * mult[oc] + bias[oc] + 2^(shift[oc]-1)) / 2^shift[oc] ), lo, 127 )
//   lo = 0 with fused ReLU, else -128; shift in [0, 62] (shift 0: no rounding term); mult in [0, 2^31);
//   bias any int64. Formed in 128 bits: exact for every int32 acc, int64 bias. (Export format v1 and the old
//   "bias before the multiply" b32 are the special case bias = b32 * mult.)
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cimsim::accel {

enum class Op : uint8_t { MAC8 = 0, MAC4 = 1, BWN = 2, XNOR = 3, MF = 4, DEEPSHIFT = 5, ADDER = 6 };
enum class Mode : uint8_t { Digital = 0, Cim = 1 };
/// Conv2d and FullyConnected run on the MAC-core array or the CIM macro; the other kinds run on the vector
/// unit (data-movement and pooling ops of the ENOS networks; integer semantics in
/// docs/accelerator-numerics.md, "Vector unit"). For vector kinds cout = cin = C, kh/kw = window, groups = the
/// shuffle's groups (else 1), and the layer has no weights:
///   MaxPool        window kh x kw, stride, pad (padding counts as -128)
///   AvgPool        window, stride, pad 0, round half up: floor((2*sum + n) / (2n))
///   GlobalAvgPool  kh = h, kw = w, stride 1, pad 0 (same rounding); output C x 1 x 1
///   ChannelShuffle groups g: out[j*g + i] = in[i*G + j], G = C / g
///   Copy           out = clamp(rescale(x, mult[0], shift[0]), -128, 127)   (concat inputs, split copies)
///   Add            out = clamp(rescale(a, mult[0], shift[0]) + rescale(b, mult[1], shift[1]), relu ? 0 : -128,
///                  127); b is the layer's second input (same shape)
enum class LayerKind : uint8_t {
  Conv2d = 0,
  FullyConnected = 1,
  MaxPool = 2,
  AvgPool = 3,
  GlobalAvgPool = 4,
  ChannelShuffle = 5,
  Copy = 6,
  Add = 7
};
constexpr int kNumLayerKinds = 8;
/// True for the kinds the vector unit runs (MaxPool .. Add).
inline bool is_vector_kind(LayerKind k) { return static_cast<uint8_t>(k) >= 2 && static_cast<uint8_t>(k) < 8; }
/// "conv2d", "fc", "maxpool", "avgpool", "gap", "shuffle", "copy", "add".
const char* kind_name(LayerKind k);

constexpr int kNumOps = 7;
constexpr Op kAllOps[kNumOps] = {Op::MAC8, Op::MAC4, Op::BWN, Op::XNOR, Op::MF, Op::DEEPSHIFT, Op::ADDER};

const char* op_name(Op op);        ///< "mac8", "mac4", "bwn", "xnor", "mf", "deepshift", "adder"
const char* mode_name(Mode mode);  ///< "digital", "cim"
std::optional<Op> parse_op(std::string_view s);
std::optional<Mode> parse_mode(std::string_view s);
/// Bits per stored weight in system memory and in the weight buffer: 8, 4, 1, 1, 8, 4, 8.
int weight_bits(Op op);
/// Which operators the CIM macro supports: MAC4, BWN, XNOR, MF.
bool cim_supported(Op op);
/// Inclusive range of a weight value for `op` (DEEPSHIFT values must also be 0 or a power of two <= 64).
std::pair<int, int> weight_range(Op op);
bool weight_valid(Op op, int w);
/// Largest |operator term| over all valid (x, w): mac8 16256, mac4 56, bwn 128, xnor 1, mf 255, deepshift 8192,
/// adder 255. LayerParams::check() requires K * max_abs_term(op) <= INT32_MAX.
int64_t max_abs_term(Op op);

struct CimParams {
  int rows = 64;             ///< partial-sum rows per ADC conversion (N)
  int adc_bits = 5;          ///< b, 1..16
  int32_t adc_range = 16;    ///< full scale +-adc_range, in partial-sum units (> 0)
  double noise_lsb = 0.0;    ///< additive Gaussian noise sigma, in ADC LSB
  double gain_sigma = 0.0;   ///< per-column (output channel) relative gain mismatch sigma
  uint64_t seed = 0;         ///< seeds the noise and mismatch streams
};

/// Product of `factors` in int64; false (and `out` untouched) if it overflows. Used wherever sizes from input
/// files are multiplied (LayerShape::check, the export loader).
bool checked_product(std::initializer_list<int64_t> factors, int64_t& out);

struct LayerShape {
  LayerKind kind = LayerKind::Conv2d;
  int n = 1;                  ///< batch
  int cin = 1, h = 1, w = 1;  ///< input
  int cout = 1;
  int kh = 1, kw = 1;
  int stride = 1;
  int pad = 0;
  int groups = 1;

  int out_h() const { return (h + 2 * pad - kh) / stride + 1; }
  int out_w() const { return (w + 2 * pad - kw) / stride + 1; }
  /// K (operator terms per output); 0 for vector kinds.
  int64_t reduction() const { return is_vector_kind(kind) ? 0 : static_cast<int64_t>(cin / groups) * kh * kw; }
  int64_t outputs() const { return static_cast<int64_t>(n) * cout * out_h() * out_w(); }
  int64_t macs() const { return outputs() * reduction(); }
  int64_t input_elems() const { return static_cast<int64_t>(n) * cin * h * w; }
  int64_t weight_elems() const { return static_cast<int64_t>(cout) * reduction(); }
  /// Empty string if the shape is possible; else a sentence saying why not.
  std::string check() const;

  /// A square-kernel convolution (groups = cin for depthwise).
  static LayerShape conv(int n, int cin, int h, int w, int cout, int k, int stride = 1, int pad = 0, int groups = 1) {
    LayerShape s;
    s.n = n;
    s.cin = cin;
    s.h = h;
    s.w = w;
    s.cout = cout;
    s.kh = s.kw = k;
    s.stride = stride;
    s.pad = pad;
    s.groups = groups;
    return s;
  }
  /// A fully-connected layer (a 1x1 convolution on a 1x1 map).
  static LayerShape fc(int n, int cin, int cout) {
    LayerShape s;
    s.kind = LayerKind::FullyConnected;
    s.n = n;
    s.cin = cin;
    s.cout = cout;
    return s;
  }
  /// A vector-unit op on an n x c x h x w tensor (window k, stride, pad; groups for ChannelShuffle).
  static LayerShape vector(LayerKind kind, int n, int c, int h, int w, int k = 1, int stride = 1, int pad = 0,
                           int groups = 1) {
    LayerShape s;
    s.kind = kind;
    s.n = n;
    s.cin = s.cout = c;
    s.h = h;
    s.w = w;
    s.kh = s.kw = k;
    if (kind == LayerKind::GlobalAvgPool) {
      s.kh = h;
      s.kw = w;
    }
    s.stride = stride;
    s.pad = pad;
    s.groups = groups;
    return s;
  }
};

struct Requant {
  std::vector<int32_t> mult;   ///< per output channel, [0, 2^31) (Copy: 1 value, Add: 2, other vector kinds: 0)
  std::vector<int32_t> shift;  ///< per output channel, [0, 62] (vector kinds: as mult)
  std::vector<int64_t> bias;   ///< per output channel, added to acc * mult (units of 2^-shift output codes; vector kinds: empty)
  bool relu = false;
};

struct LayerParams {
  LayerShape shape;
  Op op = Op::MAC8;
  Mode mode = Mode::Digital;
  CimParams cim;
  std::vector<int8_t> weights;  ///< unpacked OIHW, shape.weight_elems() values
  Requant rq;
  /// Empty string if consistent (shape, weights in range, requant sizes, CIM support); else why not.
  std::string check() const;
};

}  // namespace cimsim::accel
