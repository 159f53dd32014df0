/*
 * A PCI function's configuration space: the type-0 header, its read-only
 * and write-1-to-clear bits, BARs (sizing, programming, where they decode),
 * the capability list and an MSI capability.  Pure logic: what a BAR's
 * placement means for the server and what INTx/MSI do is the caller's,
 * through the hooks.
 */
#ifndef LIBIOREQ_PCI_CFG_H
#define LIBIOREQ_PCI_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "libioreq.h"

#define PCICFG_HEADER_SIZE 0x40u
#define PCICFG_SIZE 0x100u       /* what the library emulates */
#define PCICFG_EXT_SIZE 0x1000u  /* what a PCI_CONFIG ioreq can address */
#define PCICFG_NR_BARS 6u

/* Standard offsets and bits (PCI Local Bus 3.0). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_PARITY 0x0040
#define PCI_COMMAND_SERR 0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS 0x06
#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_STATUS_W1C 0xf900 /* parity, target/master aborts, SERR, detected parity */
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_TYPE_MULTI 0x80
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_BAR_IO 0x1u
#define PCI_BAR_MEM64 0x4u

#define PCI_CAP_ID_MSI 0x05
#define PCI_MSI_FLAGS 2           /* from the capability */
#define PCI_MSI_FLAGS_ENABLE 0x0001
#define PCI_MSI_FLAGS_64BIT 0x0080
#define PCI_MSI_ADDRESS_LO 4
#define PCI_MSI_ADDRESS_HI 8
#define PCI_MSI_DATA_64 12
#define PCI_MSI_CAP_LEN 16

struct pcicfg_hooks {
    void *opaque;
    /*
     * BAR `bar` now decodes at `base` (placed) or nowhere (!placed; base
     * is then meaningless).  0, or -errno: the BAR then decodes nowhere and
     * is tried again after the next write that concerns it.
     */
    int (*bar_place)(void *opaque, unsigned int bar, bool placed, uint64_t base);
    /* Device-specific registers (optional: reads 0, writes ignored). */
    uint32_t (*dev_read)(void *opaque, unsigned int offset, unsigned int size);
    void (*dev_write)(void *opaque, unsigned int offset, unsigned int size, uint32_t value);
};

struct pcicfg_bar {
    bool present;
    bool upper;               /* the high half of the 64-bit BAR before it */
    enum ioreq_bar_type type;
    uint64_t size;
    bool placed;
    uint64_t base;
};

struct pcicfg {
    uint8_t cfg[PCICFG_SIZE];
    uint8_t wmask[PCICFG_SIZE];  /* bits a write sets or clears */
    uint8_t w1cmask[PCICFG_SIZE];/* bits a written 1 clears */
    uint8_t emulated[PCICFG_SIZE]; /* 1: the library's byte; 0: the device's */
    struct pcicfg_bar bar[PCICFG_NR_BARS];
    uint8_t last_cap;            /* offset of the last capability, 0: none */
    uint16_t next_free;          /* where the next capability goes */
    uint8_t msi;                 /* offset of the MSI capability, 0: none */
    bool intx_pending;
    struct pcicfg_hooks hooks;
};

void pcicfg_init(struct pcicfg *c, const struct ioreq_pci_id *id, const struct pcicfg_hooks *hooks);
/* -EINVAL (bad index, type, size, or the slot is taken), -EEXIST. */
int pcicfg_add_bar(struct pcicfg *c, unsigned int bar, enum ioreq_bar_type type, uint64_t size);
/* Offset of the new capability, or -EINVAL / -ENOSPC. */
int pcicfg_add_cap(struct pcicfg *c, uint8_t id, unsigned int len);
int pcicfg_add_msi(struct pcicfg *c);
void pcicfg_set_multifunction(struct pcicfg *c, bool multi);

/* Config accesses: offset < PCICFG_EXT_SIZE, size 1/2/4, offset+size within. */
uint32_t pcicfg_read(struct pcicfg *c, unsigned int offset, unsigned int size);
void pcicfg_write(struct pcicfg *c, unsigned int offset, unsigned int size, uint32_t value);

/* Set STATUS bits the device reports (the W1C error bits, say). */
void pcicfg_set_status(struct pcicfg *c, uint16_t bits);
uint16_t pcicfg_command(const struct pcicfg *c);

bool pcicfg_msi_enabled(const struct pcicfg *c);
/* The message to send now: false when MSI is off or bus mastering is. */
bool pcicfg_msi_message(const struct pcicfg *c, uint64_t *addr, uint32_t *data);

/* INTx: the device's interrupt state, and what the line should be. */
void pcicfg_set_intx(struct pcicfg *c, bool pending);
bool pcicfg_intx_line(const struct pcicfg *c);

#endif
