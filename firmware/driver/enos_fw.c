/* ENOS accelerator firmware driver (include/cimsim_fw/enos_fw.h). C99, freestanding. */
#include "cimsim_fw/enos_fw.h"

#define RD(off) CIMSIM_FW_RD(dev->base, (off))
#define WR(off, v) CIMSIM_FW_WR(dev->base, (off), (v))
#define FIELD(v, reg, f) (((v) & ENOS_##reg##_##f##_MASK) >> ENOS_##reg##_##f##_SHIFT)

static void put(uint8_t *rec, uint32_t off, uint32_t size, uint64_t v) {
  uint32_t i;
  for (i = 0; i < size; ++i) rec[off + i] = (uint8_t)(v >> (8u * i)); /* little-endian */
}

static uint64_t f64_bits(double d) {
  union {
    double d;
    uint64_t u;
  } u;
  u.d = d;
  return u.u;
}

#define PUT(f, v) put(rec, ENOS_DESC_##f##_OFF, ENOS_DESC_##f##_SIZE, (uint64_t)(v))

int enos_init(enos_dev_t *dev) {
  if (RD(ENOS_ID_OFFSET) != ENOS_ID_VALUE) return -1;
  if ((RD(ENOS_VERSION_OFFSET) >> 16) != (ENOS_VERSION_VALUE >> 16)) return -1;
  return 0;
}

void enos_encode_descriptor(const enos_layer_t *l, uint8_t *rec) {
  uint32_t i;
  for (i = 0; i < ENOS_DESC_BYTES; ++i) rec[i] = 0; /* reserved bytes are 0 */
  PUT(MAGIC, ENOS_DESC_MAGIC);
  PUT(KIND, l->kind);
  PUT(OP, l->op);
  PUT(MODE, l->mode);
  PUT(FLAGS, (uint32_t)l->flags | (l->relu ? ENOS_DESC_FLAG_RELU : 0u));
  PUT(N, l->n);
  PUT(CIN, l->cin);
  PUT(H, l->h);
  PUT(W, l->w);
  PUT(COUT, l->cout);
  PUT(KH, l->kh);
  PUT(KW, l->kw);
  PUT(STRIDE, l->stride);
  PUT(PAD, l->pad);
  PUT(GROUPS, l->groups);
  PUT(CIM_ROWS, l->cim_rows);
  PUT(ADC_BITS, l->adc_bits);
  PUT(ADC_RANGE, (uint32_t)l->adc_range);
  PUT(WEIGHT_BYTES, l->weight_bytes);
  PUT(NOISE_LSB, f64_bits(l->noise_lsb));
  PUT(GAIN_SIGMA, f64_bits(l->gain_sigma));
  PUT(SEED, l->seed);
  PUT(INPUT_ADDR, l->input_addr);
  PUT(OUTPUT_ADDR, l->output_addr);
  if (l->kind >= ENOS_KIND_MAXPOOL) { /* vector kinds: second input and rescale pairs in the constant slots */
    PUT(WEIGHT_ADDR, l->input2_addr);
    put(rec, ENOS_DESC_MULT_ADDR_OFF, 4u, (uint32_t)l->vmult[0]);
    put(rec, ENOS_DESC_MULT_ADDR_OFF + 4u, 4u, (uint32_t)l->vmult[1]);
    put(rec, ENOS_DESC_SHIFT_ADDR_OFF, 4u, (uint32_t)l->vshift[0]);
    put(rec, ENOS_DESC_SHIFT_ADDR_OFF + 4u, 4u, (uint32_t)l->vshift[1]);
  } else {
    PUT(WEIGHT_ADDR, l->weight_addr);
    PUT(MULT_ADDR, l->mult_addr);
    PUT(SHIFT_ADDR, l->shift_addr);
    PUT(BIAS_ADDR, l->bias_addr);
  }
  PUT(WBUF_OFF, l->wbuf_off);
  PUT(STAGE_OFF, l->stage_off);
  PUT(STAGE_BYTES, l->stage_bytes);
  PUT(IN_CTOTAL, l->in_ctotal);
  PUT(OUT_CTOTAL, l->out_ctotal);
}

/* The element types this driver passes must be the ones the generated header (i.e. the model) declares: a
 * header from a model with other types does not compile with this driver. */
typedef char enos_mult_bytes_match[(ENOS_MULT_BYTES == sizeof(int32_t)) ? 1 : -1];
typedef char enos_shift_bytes_match[(ENOS_SHIFT_BYTES == sizeof(int32_t)) ? 1 : -1];
typedef char enos_bias_bytes_match[(ENOS_BIAS_BYTES == sizeof(int64_t)) ? 1 : -1];

void enos_write_requant(const int32_t *mult, const int32_t *shift, const int64_t *bias, uint32_t cout,
                        uint8_t *mult_dst, uint8_t *shift_dst, uint8_t *bias_dst) {
  uint32_t i;
  for (i = 0; i < cout; ++i) {
    if (mult_dst) put(mult_dst, i * ENOS_MULT_BYTES, ENOS_MULT_BYTES, (uint64_t)(uint32_t)mult[i]);
    if (shift_dst) put(shift_dst, i * ENOS_SHIFT_BYTES, ENOS_SHIFT_BYTES, (uint64_t)(uint32_t)shift[i]);
    if (bias_dst) put(bias_dst, i * ENOS_BIAS_BYTES, ENOS_BIAS_BYTES, (uint64_t)bias[i]);
  }
}

int enos_start(enos_dev_t *dev, uint64_t desc_addr, uint32_t count) {
  if (RD(ENOS_STATUS_OFFSET) & ENOS_STATUS_BUSY_MASK) return -1; /* START would be refused while busy */
  if ((desc_addr & 7u) != 0 || count < 1u || count > ENOS_MAX_LAYERS) return -1; /* the registers refuse these */
  WR(ENOS_IRQ_STATUS_OFFSET, ENOS_IRQ_STATUS_DONE_MASK | ENOS_IRQ_STATUS_ERROR_MASK);
  WR(ENOS_IRQ_ENABLE_OFFSET, dev->wait_irq ? (ENOS_IRQ_ENABLE_DONE_MASK | ENOS_IRQ_ENABLE_ERROR_MASK) : 0u);
  WR(ENOS_DESC_ADDR_LO_OFFSET, (uint32_t)desc_addr);
  WR(ENOS_DESC_ADDR_HI_OFFSET, (uint32_t)(desc_addr >> 32));
  WR(ENOS_LAYER_COUNT_OFFSET, count);
  WR(ENOS_CTRL_OFFSET, ENOS_CTRL_START_MASK); /* the run's outcome: enos_wait() */
  return 0;
}

int enos_wait(enos_dev_t *dev) {
  uint32_t st;
  for (;;) {
    st = RD(ENOS_STATUS_OFFSET);
    if (!(st & ENOS_STATUS_BUSY_MASK)) break;
    if (dev->wait_irq) dev->wait_irq(dev->irq_ctx); /* level-sensitive: returns once the line is high */
  }
  WR(ENOS_IRQ_STATUS_OFFSET, ENOS_IRQ_STATUS_DONE_MASK | ENOS_IRQ_STATUS_ERROR_MASK);
  if (st & ENOS_STATUS_ERROR_MASK) {
    const uint32_t code = FIELD(st, STATUS, ERR_CODE);
    return code ? (int)code : -1;
  }
  return 0;
}

int enos_run(enos_dev_t *dev, uint64_t desc_addr, uint32_t count) {
  if (enos_start(dev, desc_addr, count) != 0) return -1;
  return enos_wait(dev);
}

uint32_t enos_error_layer(enos_dev_t *dev) { return FIELD(RD(ENOS_STATUS_OFFSET), STATUS, ERR_LAYER); }

static uint64_t rd64(enos_dev_t *dev, uint32_t lo) {
  const uint64_t l = RD(lo);
  return l | ((uint64_t)RD(lo + 4u) << 32);
}

void enos_read_counters(enos_dev_t *dev, uint32_t view, enos_counters_t *out) {
  WR(ENOS_PERF_SEL_OFFSET, view);
  out->cycles = rd64(dev, ENOS_CYCLES_LO_OFFSET);
  out->macs = rd64(dev, ENOS_MACS_LO_OFFSET);
  out->energy_aj = rd64(dev, ENOS_ENERGY_LO_OFFSET);
}

uint64_t enos_read_energy_component(enos_dev_t *dev, uint32_t view, uint32_t group) {
  WR(ENOS_PERF_SEL_OFFSET, view);
  return rd64(dev, ENOS_E_COMPUTE_LO_OFFSET + 8u * group);
}
