/* C99 firmware driver for the MC2RAM macro (docs/integration.md "C firmware driver").
 * Freestanding: only <stdint.h>/<stddef.h>; registers through volatile MMIO at dev->base (mmio.h);
 * offsets, fields and window layout from the generated mc2ram_regs.h. */
#ifndef CIMSIM_FW_MC2RAM_FW_H
#define CIMSIM_FW_MC2RAM_FW_H

#include <stddef.h>
#include <stdint.h>

#include "cimsim_fw/mc2ram_regs.h"
#include "cimsim_fw/mmio.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  volatile uint32_t *base;        /* register window (MC2RAM_WINDOW_BYTES) */
  cimsim_fw_wait_irq_fn wait_irq; /* null: poll */
  void *irq_ctx;
} mc2ram_dev_t;

/* One mixture component as the array stores it (the host-side GMM compiler produces these words). */
typedef struct {
  int32_t a[8][8]; /* A[i][j], |A| < 2^(weight_bits-1) */
  int64_t bias[8];
  int32_t c;       /* 1/256 nat */
  int32_t y_shift; /* 0..32: the component's extra exponent, y = y_acc * 2^-(y_scale_log2 + y_shift) */
} mc2ram_component_t;

typedef struct {
  uint32_t k, d;          /* 1..8 each */
  uint32_t weight_bits;   /* 2..16 */
  int32_t y_scale_log2;   /* -64..64 */
  uint32_t prop_scale;    /* Q20.12, nonzero */
  const mc2ram_component_t *comp; /* k entries */
} mc2ram_gmm_t;

typedef struct {
  uint64_t cycles, accepts, energy_aj;
  uint32_t early_rejects;
} mc2ram_counters_t;

/* 0 if the ID register reads MC2RAM_ID_VALUE, else -1. */
int mc2ram_init(mc2ram_dev_t *dev);
/* Writes the GMM window and GMM_CFG/WEIGHT_BITS/Y_SCALE/PROP_SCALE (macro idle); 0, or -1 if a register did
 * not take the value (read-back differs: out-of-range value or busy). */
int mc2ram_load_gmm(mc2ram_dev_t *dev, const mc2ram_gmm_t *gmm);
/* Chains (1..8), samples per chain, seed, initial state of every chain (init[chain][dim], d dims used). */
int mc2ram_configure_run(mc2ram_dev_t *dev, uint32_t chains, uint32_t samples, uint64_t seed,
                         const int32_t (*init)[8], uint32_t d);
/* Starts a run: dma_addr != 0 writes samples by DMA there (chain-major int32, see docs), 0 uses the FIFO.
 * Returns 0, or the ERR_* code START reported. */
int mc2ram_start(mc2ram_dev_t *dev, uint64_t dma_addr);
/* FIFO mode: pops `n` sample words into `words` (waiting on the FIFO IRQ or polling FIFO_LEVEL). Returns the
 * number popped (fewer than n only if the run ended or failed first). */
size_t mc2ram_collect_fifo(mc2ram_dev_t *dev, uint32_t *words, size_t n);
/* Waits for DONE; clears IRQ_STATUS. Returns 0 or the MC2RAM_ERR_* code. */
int mc2ram_wait_done(mc2ram_dev_t *dev);
void mc2ram_read_counters(mc2ram_dev_t *dev, mc2ram_counters_t *out);
/* FIFO word fields. */
static inline uint32_t mc2ram_word_chain(uint32_t w) { return (w & MC2RAM_FIFO_DATA_CHAIN_MASK) >> MC2RAM_FIFO_DATA_CHAIN_SHIFT; }
static inline uint32_t mc2ram_word_dim(uint32_t w) { return (w & MC2RAM_FIFO_DATA_DIM_MASK) >> MC2RAM_FIFO_DATA_DIM_SHIFT; }
static inline int32_t mc2ram_word_state(uint32_t w) { return (int32_t)(int16_t)(uint16_t)(w & MC2RAM_FIFO_DATA_STATE_MASK); }

#ifdef __cplusplus
}
#endif
#endif /* CIMSIM_FW_MC2RAM_FW_H */
