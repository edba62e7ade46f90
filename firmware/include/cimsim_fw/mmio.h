/* MMIO access for the cimsim firmware drivers (C99, freestanding: only <stdint.h>).
 * By default a register access is a volatile 32-bit load/store through the device's base pointer.
 * Built with CIMSIM_FW_MMIO_HOOKS defined, accesses call cimsim_fw_mmio_read32()/cimsim_fw_mmio_write32()
 * instead, which the host test bench implements as TLM transactions (tests/firmware). */
#ifndef CIMSIM_FW_MMIO_H
#define CIMSIM_FW_MMIO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef CIMSIM_FW_MMIO_HOOKS
uint32_t cimsim_fw_mmio_read32(volatile uint32_t *addr);
void cimsim_fw_mmio_write32(volatile uint32_t *addr, uint32_t value);
#define CIMSIM_FW_RD(base, off) cimsim_fw_mmio_read32((base) + (off) / 4u)
#define CIMSIM_FW_WR(base, off, v) cimsim_fw_mmio_write32((base) + (off) / 4u, (v))
#else
#define CIMSIM_FW_RD(base, off) ((base)[(off) / 4u])
#define CIMSIM_FW_WR(base, off, v) ((base)[(off) / 4u] = (uint32_t)(v))
#endif

/* Optional interrupt wait supplied by the platform (e.g. a WFI loop around the interrupt controller): when
 * a device's wait_irq is null the drivers poll STATUS instead. */
typedef void (*cimsim_fw_wait_irq_fn)(void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* CIMSIM_FW_MMIO_H */
