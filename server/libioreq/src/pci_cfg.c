/* A PCI function's configuration space (see pci_cfg.h). */
#include <errno.h>
#include <string.h>

#include "pci_cfg.h"

static uint32_t get(const uint8_t *p, unsigned int size)
{
    uint32_t v = 0;

    for (unsigned int i = 0; i < size; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static void put(uint8_t *p, unsigned int size, uint32_t v)
{
    for (unsigned int i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void set_mask(uint8_t *mask, unsigned int offset, unsigned int size, uint32_t v)
{
    put(mask + offset, size, v);
}

uint16_t pcicfg_command(const struct pcicfg *c)
{
    return (uint16_t)get(c->cfg + PCI_COMMAND, 2);
}

void pcicfg_init(struct pcicfg *c, const struct ioreq_pci_id *id, const struct pcicfg_hooks *hooks)
{
    memset(c, 0, sizeof(*c));
    if (hooks)
        c->hooks = *hooks;
    memset(c->emulated, 1, PCICFG_HEADER_SIZE);
    c->next_free = PCICFG_HEADER_SIZE;

    put(c->cfg + PCI_VENDOR_ID, 2, id->vendor);
    put(c->cfg + PCI_DEVICE_ID, 2, id->device);
    set_mask(c->wmask, PCI_COMMAND, 2,
             PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
                 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    set_mask(c->w1cmask, PCI_STATUS, 2, PCI_STATUS_W1C);
    c->cfg[PCI_REVISION_ID] = id->revision;
    c->cfg[PCI_CLASS_PROG] = id->prog_if;
    c->cfg[PCI_CLASS_PROG + 1] = id->subclass;
    c->cfg[PCI_CLASS_PROG + 2] = id->class_code;
    c->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    c->wmask[PCI_LATENCY_TIMER] = 0xff;
    put(c->cfg + PCI_SUBSYSTEM_VENDOR_ID, 2, id->subsystem_vendor);
    put(c->cfg + PCI_SUBSYSTEM_ID, 2, id->subsystem);
    c->wmask[PCI_INTERRUPT_LINE] = 0xff;
    c->cfg[PCI_INTERRUPT_PIN] = id->interrupt_pin <= 4 ? id->interrupt_pin : 0;
}

void pcicfg_set_multifunction(struct pcicfg *c, bool multi)
{
    if (multi)
        c->cfg[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI;
    else
        c->cfg[PCI_HEADER_TYPE] &= (uint8_t)~PCI_HEADER_TYPE_MULTI;
}

static bool power_of_two(uint64_t v)
{
    return v && !(v & (v - 1));
}

int pcicfg_add_bar(struct pcicfg *c, unsigned int bar, enum ioreq_bar_type type, uint64_t size)
{
    unsigned int slots = type == IOREQ_BAR_MEM64 ? 2 : 1;
    uint64_t max = type == IOREQ_BAR_IO ? 256 : type == IOREQ_BAR_MEM32 ? 1ull << 31 : 1ull << 63;
    uint64_t min = type == IOREQ_BAR_IO ? 4 : 16;

    if (type != IOREQ_BAR_IO && type != IOREQ_BAR_MEM32 && type != IOREQ_BAR_MEM64)
        return -EINVAL;
    if (bar >= PCICFG_NR_BARS || bar + slots > PCICFG_NR_BARS || !power_of_two(size) ||
        size < min || size > max)
        return -EINVAL;
    for (unsigned int i = bar; i < bar + slots; i++)
        if (c->bar[i].present || c->bar[i].upper)
            return -EEXIST;

    unsigned int off = PCI_BASE_ADDRESS_0 + 4 * bar;
    uint64_t addr_mask = ~(size - 1);
    struct pcicfg_bar *b = &c->bar[bar];

    b->present = true;
    b->type = type;
    b->size = size;
    switch (type) {
    case IOREQ_BAR_IO:
        put(c->cfg + off, 4, PCI_BAR_IO);
        set_mask(c->wmask, off, 4, (uint32_t)addr_mask & ~3u);
        break;
    case IOREQ_BAR_MEM32:
        set_mask(c->wmask, off, 4, (uint32_t)addr_mask & ~0xfu);
        break;
    case IOREQ_BAR_MEM64:
        put(c->cfg + off, 4, PCI_BAR_MEM64);
        set_mask(c->wmask, off, 4, (uint32_t)addr_mask & ~0xfu);
        set_mask(c->wmask, off + 4, 4, (uint32_t)(addr_mask >> 32));
        c->bar[bar + 1].upper = true;
        break;
    }
    return 0;
}

int pcicfg_add_cap(struct pcicfg *c, uint8_t id, unsigned int len)
{
    unsigned int off = (c->next_free + 3u) & ~3u;

    if (len < 2 || len > PCICFG_SIZE - PCICFG_HEADER_SIZE)
        return -EINVAL;
    if (off + len > PCICFG_SIZE)
        return -ENOSPC;
    c->cfg[off] = id;
    c->cfg[off + 1] = 0;
    c->emulated[off] = c->emulated[off + 1] = 1;
    if (c->last_cap)
        c->cfg[c->last_cap + 1] = (uint8_t)off;
    else
        c->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
    c->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    c->last_cap = (uint8_t)off;
    c->next_free = (uint16_t)(off + len);
    return (int)off;
}

int pcicfg_add_msi(struct pcicfg *c)
{
    if (c->msi)
        return -EEXIST;
    int off = pcicfg_add_cap(c, PCI_CAP_ID_MSI, PCI_MSI_CAP_LEN);
    if (off < 0)
        return off;
    unsigned int o = (unsigned int)off;
    memset(c->emulated + o, 1, PCI_MSI_CAP_LEN);
    put(c->cfg + o + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_64BIT); /* one vector, no masking */
    set_mask(c->wmask, o + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
    set_mask(c->wmask, o + PCI_MSI_ADDRESS_LO, 4, 0xfffffffcu);
    set_mask(c->wmask, o + PCI_MSI_ADDRESS_HI, 4, 0xffffffffu);
    set_mask(c->wmask, o + PCI_MSI_DATA_64, 2, 0xffffu);
    c->msi = (uint8_t)o;
    return 0;
}

static bool emulated(const struct pcicfg *c, unsigned int offset)
{
    return offset < PCICFG_SIZE && c->emulated[offset];
}

/* 1: all bytes the library's, 0: all the device's, -1: mixed. */
static int ownership(const struct pcicfg *c, unsigned int offset, unsigned int size)
{
    unsigned int lib = 0;

    for (unsigned int i = 0; i < size; i++)
        lib += emulated(c, offset + i);
    return lib == size ? 1 : lib == 0 ? 0 : -1;
}

static uint32_t dev_read(struct pcicfg *c, unsigned int offset, unsigned int size)
{
    uint32_t v = c->hooks.dev_read ? c->hooks.dev_read(c->hooks.opaque, offset, size) : 0;

    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void dev_write(struct pcicfg *c, unsigned int offset, unsigned int size, uint32_t v)
{
    if (c->hooks.dev_write)
        c->hooks.dev_write(c->hooks.opaque, offset, size, v);
}

uint32_t pcicfg_read(struct pcicfg *c, unsigned int offset, unsigned int size)
{
    switch (ownership(c, offset, size)) {
    case 1:
        return get(c->cfg + offset, size);
    case 0:
        return dev_read(c, offset, size);
    default: {
        uint32_t v = 0;
        for (unsigned int i = 0; i < size; i++) {
            uint32_t b = emulated(c, offset + i) ? c->cfg[offset + i] : dev_read(c, offset + i, 1);
            v |= b << (8 * i);
        }
        return v;
    }
    }
}

/* Where BAR `i` should decode now: false if nowhere. */
static bool bar_target(const struct pcicfg *c, unsigned int i, uint64_t *base)
{
    const struct pcicfg_bar *b = &c->bar[i];
    uint16_t cmd = pcicfg_command(c);
    uint32_t lo = get(c->cfg + PCI_BASE_ADDRESS_0 + 4 * i, 4);
    uint64_t addr, last_allowed;

    switch (b->type) {
    case IOREQ_BAR_IO:
        if (!(cmd & PCI_COMMAND_IO))
            return false;
        addr = lo & ~3u;
        last_allowed = 0xffff;
        break;
    case IOREQ_BAR_MEM32:
        if (!(cmd & PCI_COMMAND_MEMORY))
            return false;
        addr = lo & ~0xfu;
        last_allowed = 0xfffffffeu; /* the top byte is the sizing pattern's */
        break;
    default:
        if (!(cmd & PCI_COMMAND_MEMORY))
            return false;
        addr = (lo & ~0xfu) | (uint64_t)get(c->cfg + PCI_BASE_ADDRESS_0 + 4 * i + 4, 4) << 32;
        last_allowed = UINT64_MAX - 1;
        break;
    }
    addr &= ~(b->size - 1);
    if (addr == 0 || addr > last_allowed || b->size - 1 > last_allowed - addr)
        return false;
    *base = addr;
    return true;
}

static void update_bars(struct pcicfg *c)
{
    for (unsigned int i = 0; i < PCICFG_NR_BARS; i++) {
        struct pcicfg_bar *b = &c->bar[i];
        uint64_t base = 0;

        if (!b->present)
            continue;
        bool on = bar_target(c, i, &base);
        if (on == b->placed && (!on || base == b->base))
            continue;
        int rc = c->hooks.bar_place ? c->hooks.bar_place(c->hooks.opaque, i, on, base) : 0;
        b->placed = on && rc == 0;
        b->base = b->placed ? base : 0;
    }
}

static bool overlaps(unsigned int offset, unsigned int size, unsigned int first, unsigned int end)
{
    return offset < end && first < offset + size;
}

void pcicfg_write(struct pcicfg *c, unsigned int offset, unsigned int size, uint32_t value)
{
    int own = ownership(c, offset, size);

    if (own == 0) {
        dev_write(c, offset, size, value);
        return;
    }
    for (unsigned int i = 0; i < size; i++) {
        unsigned int o = offset + i;
        uint8_t v = (uint8_t)(value >> (8 * i));

        if (!emulated(c, o)) {
            dev_write(c, o, 1, v);
            continue;
        }
        uint8_t nv = (uint8_t)((c->cfg[o] & ~c->wmask[o]) | (v & c->wmask[o]));
        c->cfg[o] = (uint8_t)(nv & ~(v & c->w1cmask[o]));
    }
    if (overlaps(offset, size, PCI_COMMAND, PCI_COMMAND + 2) ||
        overlaps(offset, size, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_0 + 4 * PCICFG_NR_BARS))
        update_bars(c);
}

void pcicfg_set_status(struct pcicfg *c, uint16_t bits)
{
    put(c->cfg + PCI_STATUS, 2, get(c->cfg + PCI_STATUS, 2) | bits);
}

bool pcicfg_msi_enabled(const struct pcicfg *c)
{
    return c->msi && (get(c->cfg + c->msi + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE);
}

bool pcicfg_msi_message(const struct pcicfg *c, uint64_t *addr, uint32_t *data)
{
    if (!pcicfg_msi_enabled(c) || !(pcicfg_command(c) & PCI_COMMAND_MASTER))
        return false;
    *addr = get(c->cfg + c->msi + PCI_MSI_ADDRESS_LO, 4) |
            (uint64_t)get(c->cfg + c->msi + PCI_MSI_ADDRESS_HI, 4) << 32;
    *data = get(c->cfg + c->msi + PCI_MSI_DATA_64, 2);
    return true;
}

void pcicfg_set_intx(struct pcicfg *c, bool pending)
{
    c->intx_pending = pending;
    if (pending)
        c->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
    else
        c->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
}

bool pcicfg_intx_line(const struct pcicfg *c)
{
    return c->intx_pending && c->cfg[PCI_INTERRUPT_PIN] &&
           !(pcicfg_command(c) & PCI_COMMAND_INTX_DISABLE) && !pcicfg_msi_enabled(c);
}
