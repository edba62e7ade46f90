/* MC2RAM macro firmware driver (include/cimsim_fw/mc2ram_fw.h). C99, freestanding. */
#include "cimsim_fw/mc2ram_fw.h"

#define RD(off) CIMSIM_FW_RD(dev->base, (off))
#define WR(off, v) CIMSIM_FW_WR(dev->base, (off), (v))

int mc2ram_init(mc2ram_dev_t *dev) { return RD(MC2RAM_ID_OFFSET) == MC2RAM_ID_VALUE ? 0 : -1; }

/* Write and read back: the macro keeps the old value when it rejects one (a bus error on the write). */
static int wr_check(mc2ram_dev_t *dev, uint32_t off, uint32_t v) {
  WR(off, v);
  return RD(off) == v ? 0 : -1;
}

int mc2ram_load_gmm(mc2ram_dev_t *dev, const mc2ram_gmm_t *g) {
  uint32_t k, i, j;
  int err = 0;
  if (g->k < 1 || g->k > MC2RAM_MAX_K || g->d < 1 || g->d > MC2RAM_MAX_D) return -1;
  for (k = 0; k < g->k; ++k) {
    const uint32_t comp = MC2RAM_GMM_WINDOW_OFFSET + k * MC2RAM_COMP_STRIDE;
    const mc2ram_component_t *c = &g->comp[k];
    for (i = 0; i < 8u; ++i)
      for (j = 0; j < 8u; ++j) WR(comp + 4u * (MC2RAM_WORD_A + i * 8u + j), (uint32_t)c->a[i][j]);
    for (i = 0; i < 8u; ++i) {
      const uint64_t b = (uint64_t)c->bias[i];
      WR(comp + 4u * (MC2RAM_WORD_BIAS + 2u * i), (uint32_t)b);
      WR(comp + 4u * (MC2RAM_WORD_BIAS + 2u * i + 1u), (uint32_t)(b >> 32));
    }
    WR(comp + 4u * MC2RAM_WORD_C, (uint32_t)c->c);
    WR(comp + 4u * MC2RAM_WORD_Y_SHIFT, (uint32_t)c->y_shift);
  }
  err |= wr_check(dev, MC2RAM_GMM_CFG_OFFSET, (g->k << MC2RAM_GMM_CFG_K_SHIFT) | (g->d << MC2RAM_GMM_CFG_D_SHIFT));
  err |= wr_check(dev, MC2RAM_WEIGHT_BITS_OFFSET, g->weight_bits);
  err |= wr_check(dev, MC2RAM_Y_SCALE_OFFSET, (uint32_t)g->y_scale_log2);
  err |= wr_check(dev, MC2RAM_PROP_SCALE_OFFSET, g->prop_scale);
  return err;
}

int mc2ram_configure_run(mc2ram_dev_t *dev, uint32_t chains, uint32_t samples, uint64_t seed,
                         const int32_t (*init)[8], uint32_t d) {
  uint32_t l, j;
  int err = 0;
  err |= wr_check(dev, MC2RAM_CHAINS_OFFSET, chains);
  err |= wr_check(dev, MC2RAM_SAMPLES_OFFSET, samples);
  err |= wr_check(dev, MC2RAM_SEED_LO_OFFSET, (uint32_t)seed);
  err |= wr_check(dev, MC2RAM_SEED_HI_OFFSET, (uint32_t)(seed >> 32));
  for (l = 0; l < chains && l < MC2RAM_MAX_CHAINS; ++l)
    for (j = 0; j < d && j < MC2RAM_MAX_D; ++j)
      WR(MC2RAM_INIT_WINDOW_OFFSET + 4u * (l * 8u + j), (uint32_t)init[l][j]);
  return err;
}

int mc2ram_start(mc2ram_dev_t *dev, uint64_t dma_addr) {
  uint32_t st, ctrl = MC2RAM_CTRL_START_MASK;
  WR(MC2RAM_IRQ_STATUS_OFFSET, MC2RAM_IRQ_STATUS_DONE_MASK | MC2RAM_IRQ_STATUS_ERROR_MASK | MC2RAM_IRQ_STATUS_FIFO_MASK);
  WR(MC2RAM_IRQ_ENABLE_OFFSET, dev->wait_irq ? (MC2RAM_IRQ_ENABLE_DONE_MASK | MC2RAM_IRQ_ENABLE_ERROR_MASK) : 0u);
  if (dma_addr) {
    WR(MC2RAM_DMA_ADDR_LO_OFFSET, (uint32_t)dma_addr);
    WR(MC2RAM_DMA_ADDR_HI_OFFSET, (uint32_t)(dma_addr >> 32));
    ctrl |= MC2RAM_CTRL_DMA_EN_MASK;
  }
  WR(MC2RAM_CTRL_OFFSET, ctrl);
  st = RD(MC2RAM_STATUS_OFFSET);
  return (int)((st & MC2RAM_STATUS_ERR_CODE_MASK) >> MC2RAM_STATUS_ERR_CODE_SHIFT);
}

size_t mc2ram_collect_fifo(mc2ram_dev_t *dev, uint32_t *words, size_t n) {
  size_t got = 0;
  if (dev->wait_irq) WR(MC2RAM_IRQ_ENABLE_OFFSET, MC2RAM_IRQ_ENABLE_DONE_MASK | MC2RAM_IRQ_ENABLE_ERROR_MASK |
                                                      MC2RAM_IRQ_ENABLE_FIFO_MASK);
  while (got < n) {
    uint32_t level = RD(MC2RAM_FIFO_LEVEL_OFFSET);
    if (level == 0) {
      const uint32_t st = RD(MC2RAM_STATUS_OFFSET);
      if (!(st & MC2RAM_STATUS_BUSY_MASK)) {
        if (RD(MC2RAM_FIFO_LEVEL_OFFSET) == 0) break; /* run over (or failed) and nothing left */
        continue;
      }
      if (dev->wait_irq) {
        /* FIFO IRQ when the level reaches min(remaining, threshold); DONE/ERROR end the wait too */
        const size_t want = n - got;
        WR(MC2RAM_FIFO_THRESH_OFFSET, want < 64u ? (uint32_t)want : 64u);
        WR(MC2RAM_IRQ_STATUS_OFFSET, MC2RAM_IRQ_STATUS_FIFO_MASK); /* sticky: clear before waiting */
        dev->wait_irq(dev->irq_ctx);
      }
      continue;
    }
    while (level-- > 0 && got < n) words[got++] = RD(MC2RAM_FIFO_DATA_OFFSET);
  }
  if (dev->wait_irq) WR(MC2RAM_IRQ_ENABLE_OFFSET, MC2RAM_IRQ_ENABLE_DONE_MASK | MC2RAM_IRQ_ENABLE_ERROR_MASK);
  return got;
}

int mc2ram_wait_done(mc2ram_dev_t *dev) {
  uint32_t st;
  for (;;) {
    st = RD(MC2RAM_STATUS_OFFSET);
    if (!(st & MC2RAM_STATUS_BUSY_MASK)) break;
    if (dev->wait_irq) dev->wait_irq(dev->irq_ctx); /* level-sensitive */
  }
  WR(MC2RAM_IRQ_STATUS_OFFSET, MC2RAM_IRQ_STATUS_DONE_MASK | MC2RAM_IRQ_STATUS_ERROR_MASK | MC2RAM_IRQ_STATUS_FIFO_MASK);
  return (int)((st & MC2RAM_STATUS_ERR_CODE_MASK) >> MC2RAM_STATUS_ERR_CODE_SHIFT);
}

void mc2ram_read_counters(mc2ram_dev_t *dev, mc2ram_counters_t *out) {
  out->cycles = (uint64_t)RD(MC2RAM_CYCLES_LO_OFFSET) | ((uint64_t)RD(MC2RAM_CYCLES_HI_OFFSET) << 32);
  out->accepts = (uint64_t)RD(MC2RAM_ACCEPTS_LO_OFFSET) | ((uint64_t)RD(MC2RAM_ACCEPTS_HI_OFFSET) << 32);
  out->early_rejects = RD(MC2RAM_EARLY_REJECTS_OFFSET);
  WR(MC2RAM_ENERGY_SEL_OFFSET, MC2RAM_ENERGY_SEL_TOTAL);
  out->energy_aj = (uint64_t)RD(MC2RAM_ENERGY_LO_OFFSET) | ((uint64_t)RD(MC2RAM_ENERGY_HI_OFFSET) << 32);
}
