/* C99 firmware driver for the ENOS accelerator (docs/integration.md "C firmware driver").
 * Freestanding: only <stdint.h>/<stddef.h>; registers through volatile MMIO at dev->base (mmio.h);
 * offsets, fields and the descriptor layout come from the generated enos_regs.h. */
#ifndef CIMSIM_FW_ENOS_FW_H
#define CIMSIM_FW_ENOS_FW_H

#include <stddef.h>
#include <stdint.h>

#include "cimsim_fw/enos_regs.h"
#include "cimsim_fw/mmio.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  volatile uint32_t *base;        /* CSR window (ENOS_WINDOW_BYTES) */
  cimsim_fw_wait_irq_fn wait_irq; /* null: poll STATUS */
  void *irq_ctx;
} enos_dev_t;

/* One layer, as the descriptor record holds it (field meanings: enos_regs.h ENOS_DESC_*). */
typedef struct {
  uint8_t kind, op, mode, relu; /* kind: ENOS_KIND_*; relu adds ENOS_DESC_FLAG_RELU to flags */
  uint8_t flags;                /* other ENOS_DESC_FLAG_* bits (activation-buffer operands, pinned constants) */
  uint16_t n, cin, h, w, cout, kh, kw, stride, pad, groups;
  uint16_t cim_rows;
  uint8_t adc_bits;
  int32_t adc_range;
  uint32_t weight_bytes;
  double noise_lsb, gain_sigma;
  uint64_t seed;
  uint64_t input_addr, output_addr, weight_addr, mult_addr, shift_addr, bias_addr; /* bus addresses */
  uint32_t wbuf_off, stage_off, stage_bytes; /* on-chip buffer offsets (memory hierarchy) */
  uint16_t in_ctotal, out_ctotal;            /* 0: cin / cout */
  /* vector kinds (ENOS_KIND_MAXPOOL .. ENOS_KIND_ADD) use these instead of weight/mult/shift/bias: */
  uint64_t input2_addr;
  int32_t vmult[2], vshift[2];
} enos_layer_t;

typedef struct {
  uint64_t cycles, macs, energy_aj;
} enos_counters_t;

/* 0 if the device answers with the expected ID and a major version this driver knows, else -1. */
int enos_init(enos_dev_t *dev);
/* Encodes a layer into a descriptor record of ENOS_DESC_BYTES bytes at `rec` (little-endian). */
void enos_encode_descriptor(const enos_layer_t *layer, uint8_t *rec);
/* Writes `cout` requantization constants where a descriptor's mult_addr / shift_addr / bias_addr point, as the
 * accelerator reads them: little-endian, ENOS_MULT_BYTES / ENOS_SHIFT_BYTES / ENOS_BIAS_BYTES bytes each (the
 * biases are 64-bit). A null destination skips that array. */
void enos_write_requant(const int32_t *mult, const int32_t *shift, const int64_t *bias, uint32_t cout,
                        uint8_t *mult_dst, uint8_t *shift_dst, uint8_t *bias_dst);
/* Starts `count` descriptors at bus address `desc_addr`; returns 0, or -1 without starting if the device is
 * busy, the address is not 8-byte aligned or count is outside 1..ENOS_MAX_LAYERS. */
int enos_start(enos_dev_t *dev, uint64_t desc_addr, uint32_t count);
/* Waits for the end of the run (IRQ when dev->wait_irq is set, else polling); clears IRQ_STATUS.
 * Returns 0 on success, else the ENOS_ERR_* code (the failing layer: enos_error_layer()). */
int enos_wait(enos_dev_t *dev);
/* Start + wait. */
int enos_run(enos_dev_t *dev, uint64_t desc_addr, uint32_t count);
uint32_t enos_error_layer(enos_dev_t *dev);
/* Counters of a view: ENOS_PERF_WHOLE_RUN or a layer index of the last run. */
void enos_read_counters(enos_dev_t *dev, uint32_t view, enos_counters_t *out);
/* Energy (aJ) of ledger component `group` (0 .. ENOS_ENERGY_COMPONENTS-1) in the selected view. */
uint64_t enos_read_energy_component(enos_dev_t *dev, uint32_t view, uint32_t group);

#ifdef __cplusplus
}
#endif
#endif /* CIMSIM_FW_ENOS_FW_H */
