/*
 * 16550A register model; see uart16550.h for what is modelled and how.
 * Written from the PC16550D data sheet's register descriptions.
 */
#include "uart16550.h"

#include <string.h>

#define LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)
#define MSR_LINES  (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCD)

/* ---- FIFOs ---------------------------------------------------------------- */

static void fifo_clear(struct uart16550_fifo *f)
{
    f->head = 0;
    f->count = 0;
}

static void fifo_push(struct uart16550_fifo *f, uint8_t byte)
{
    f->data[(f->head + f->count) % UART_FIFO_SIZE] = byte;
    f->count++;
}

static uint8_t fifo_pop(struct uart16550_fifo *f)
{
    uint8_t byte = f->data[f->head];

    f->head = (uint8_t)((f->head + 1) % UART_FIFO_SIZE);
    f->count--;
    return byte;
}

/* One byte deep in 16450 mode (a holding register), 16 with FIFOs on. */
static unsigned int fifo_capacity(const struct uart16550 *u)
{
    return u->fifo_enabled ? UART_FIFO_SIZE : 1;
}

/* ---- derived state --------------------------------------------------------- */

static bool loopback(const struct uart16550 *u)
{
    return (u->mcr & UART_MCR_LOOP) != 0;
}

/*
 * The modem status inputs as MSR bits 7..4.  In loopback mode the outputs
 * are wired back inside the chip: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
 */
static uint8_t modem_lines(const struct uart16550 *u)
{
    uint8_t lines = 0;

    if (!loopback(u))
        return u->modem_in & MSR_LINES;
    if (u->mcr & UART_MCR_DTR)
        lines |= UART_MSR_DSR;
    if (u->mcr & UART_MCR_RTS)
        lines |= UART_MSR_CTS;
    if (u->mcr & UART_MCR_OUT1)
        lines |= UART_MSR_RI;
    if (u->mcr & UART_MCR_OUT2)
        lines |= UART_MSR_DCD;
    return lines;
}

static void note_line_change(struct uart16550 *u, uint8_t before, uint8_t after)
{
    uint8_t changed = before ^ after;

    if (changed & UART_MSR_CTS)
        u->msr_delta |= UART_MSR_DCTS;
    if (changed & UART_MSR_DSR)
        u->msr_delta |= UART_MSR_DDSR;
    if (changed & UART_MSR_DCD)
        u->msr_delta |= UART_MSR_DDCD;
    if ((before & UART_MSR_RI) && !(after & UART_MSR_RI))
        u->msr_delta |= UART_MSR_TERI;
}

static uint8_t lsr_value(const struct uart16550 *u)
{
    uint8_t lsr = u->lsr_errors;

    if (u->rx.count)
        lsr |= UART_LSR_DR;
    /* The transmitter shifts out instantly: TEMT is THRE. */
    if (u->tx.count == 0)
        lsr |= UART_LSR_THRE | UART_LSR_TEMT;
    /* Bit 7 (an error inside the RX FIFO) needs per-byte PE/FE/BI: never. */
    return lsr;
}

/* The interrupt IIR would report now (bits 3..0), or UART_IIR_NO_INT. */
static uint8_t pending_interrupt(const struct uart16550 *u)
{
    if ((u->ier & UART_IER_ELSI) && (u->lsr_errors & LSR_ERRORS))
        return UART_IIR_RLSI;
    if ((u->ier & UART_IER_ERBFI) && u->rx.count) {
        if (!u->fifo_enabled || u->rx.count >= u->rx_trigger)
            return UART_IIR_RDI;
        return UART_IIR_CTI;
    }
    if ((u->ier & UART_IER_ETBEI) && u->thre_pending)
        return UART_IIR_THRI;
    if ((u->ier & UART_IER_EDSSI) && u->msr_delta)
        return UART_IIR_MSI;
    return UART_IIR_NO_INT;
}

bool uart16550_irq_line(const struct uart16550 *u)
{
    return pending_interrupt(u) != UART_IIR_NO_INT && (u->mcr & UART_MCR_OUT2);
}

/* Called at the end of every entry point: report a change of the line. */
static void update_irq(struct uart16550 *u)
{
    bool level = uart16550_irq_line(u);

    if (level == u->irq_level)
        return;
    u->irq_level = level;
    if (u->ops && u->ops->irq)
        u->ops->irq(u->opaque, level);
}

/* ---- receiver and transmitter ------------------------------------------- */

/* A byte completes in the receiver shift register; returns whether kept. */
static bool receive_byte(struct uart16550 *u, uint8_t byte)
{
    if (u->rx.count < fifo_capacity(u)) {
        fifo_push(&u->rx, byte);
        return true;
    }
    u->lsr_errors |= UART_LSR_OE;
    if (!u->fifo_enabled) {
        /* The 16450 overwrites its holding register. */
        u->rx.data[u->rx.head] = byte;
        return true;
    }
    return false; /* FIFO mode: the FIFO is kept, the new byte is lost. */
}

/* Move TX FIFO bytes to the line (or, in loopback, to the receiver). */
static void transmit(struct uart16550 *u)
{
    bool had_data = u->tx.count != 0;

    while (u->tx.count) {
        if (loopback(u)) {
            receive_byte(u, fifo_pop(&u->tx));
        } else if (u->ops && u->ops->tx) {
            size_t chunk = u->tx.count;
            size_t taken;

            if (chunk > (size_t)(UART_FIFO_SIZE - u->tx.head))
                chunk = UART_FIFO_SIZE - u->tx.head; /* contiguous part */
            taken = u->ops->tx(u->opaque, &u->tx.data[u->tx.head], chunk);
            if (taken > chunk)
                taken = chunk;
            u->tx.head = (uint8_t)((u->tx.head + taken) % UART_FIFO_SIZE);
            u->tx.count = (uint8_t)(u->tx.count - taken);
            if (taken < chunk)
                break; /* the line is busy */
        } else {
            fifo_clear(&u->tx); /* nothing attached: the bytes go nowhere */
        }
    }
    if (had_data && u->tx.count == 0)
        u->thre_pending = true; /* THR (the TX FIFO) just became empty */
}

static void clear_tx_fifo(struct uart16550 *u)
{
    if (u->tx.count)
        u->thre_pending = true;
    fifo_clear(&u->tx);
}

/* ---- registers ------------------------------------------------------------ */

static uint8_t read_reg(struct uart16550 *u, unsigned int reg)
{
    uint8_t value = 0;
    bool dlab = (u->lcr & UART_LCR_DLAB) != 0;

    switch (reg) {
    case UART_RBR:
        if (dlab)
            return u->dll;
        if (u->rx.count)
            u->rbr_last = fifo_pop(&u->rx);
        return u->rbr_last;
    case UART_IER:
        return dlab ? u->dlm : u->ier;
    case UART_IIR:
        value = pending_interrupt(u);
        /* Reporting the THR-empty interrupt acknowledges it. */
        if (value == UART_IIR_THRI)
            u->thre_pending = false;
        if (u->fifo_enabled)
            value |= UART_IIR_FIFO;
        return value;
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        value = lsr_value(u);
        u->lsr_errors = 0;
        return value;
    case UART_MSR:
        value = modem_lines(u) | u->msr_delta;
        u->msr_delta = 0;
        return value;
    case UART_SCR:
        return u->scr;
    }
    return 0xff;
}

static void write_ier(struct uart16550 *u, uint8_t value)
{
    uint8_t before = u->ier;

    u->ier = value & 0x0f; /* bits 7..4 are always 0 on a 16550A */
    if (!(u->ier & UART_IER_ETBEI))
        u->thre_pending = false;
    else if (!(before & UART_IER_ETBEI) && u->tx.count == 0)
        u->thre_pending = true; /* enabling it with THR empty interrupts */
}

static void write_fcr(struct uart16550 *u, uint8_t value)
{
    static const uint8_t triggers[4] = { 1, 4, 8, 14 };
    bool enable = (value & UART_FCR_ENABLE) != 0;

    if (enable != u->fifo_enabled) {
        /* Switching between FIFO and 16450 mode empties both FIFOs. */
        fifo_clear(&u->rx);
        clear_tx_fifo(u);
        u->fifo_enabled = enable;
    }
    if (!enable)
        return; /* the other bits only take effect with bit 0 set */
    if (value & UART_FCR_CLEAR_RX)
        fifo_clear(&u->rx);
    if (value & UART_FCR_CLEAR_TX)
        clear_tx_fifo(u);
    u->rx_trigger = triggers[(value & UART_FCR_TRIG_MASK) >> 6];
    u->fcr_dma = value & UART_FCR_DMA;
}

static void write_mcr(struct uart16550 *u, uint8_t value)
{
    uint8_t before = modem_lines(u);

    u->mcr = value & 0x1f; /* bits 7..5 are always 0 on a 16550A */
    note_line_change(u, before, modem_lines(u));
}

static void write_reg(struct uart16550 *u, unsigned int reg, uint8_t value)
{
    bool dlab = (u->lcr & UART_LCR_DLAB) != 0;

    switch (reg) {
    case UART_THR:
        if (dlab) {
            u->dll = value;
            return;
        }
        u->thre_pending = false;
        if (u->tx.count < fifo_capacity(u))
            fifo_push(&u->tx, value);
        /* else: written to a full FIFO, the byte is lost */
        transmit(u);
        return;
    case UART_IER:
        if (dlab)
            u->dlm = value;
        else
            write_ier(u, value);
        return;
    case UART_FCR:
        write_fcr(u, value);
        return;
    case UART_LCR:
        u->lcr = value;
        return;
    case UART_MCR:
        write_mcr(u, value);
        transmit(u); /* entering loopback redirects anything still queued */
        return;
    case UART_LSR: /* factory test only */
    case UART_MSR:
        return;
    case UART_SCR:
        u->scr = value;
        return;
    }
}

/* ---- public ----------------------------------------------------------------- */

static void power_on(struct uart16550 *u)
{
    const struct uart16550_ops *ops = u->ops;
    void *opaque = u->opaque;
    bool level = u->irq_level;

    memset(u, 0, sizeof(*u));
    u->ops = ops;
    u->opaque = opaque;
    u->irq_level = level;
    u->modem_in = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
    u->dll = 12;
    u->rx_trigger = 1;
}

void uart16550_init(struct uart16550 *u, const struct uart16550_ops *ops, void *opaque)
{
    memset(u, 0, sizeof(*u));
    u->ops = ops;
    u->opaque = opaque;
    power_on(u);
}

void uart16550_reset(struct uart16550 *u)
{
    power_on(u);
    update_irq(u);
}

uint8_t uart16550_read(struct uart16550 *u, unsigned int reg)
{
    uint8_t value = read_reg(u, reg % UART_NR_REGS);

    update_irq(u);
    return value;
}

void uart16550_write(struct uart16550 *u, unsigned int reg, uint8_t value)
{
    write_reg(u, reg % UART_NR_REGS, value);
    update_irq(u);
}

uint64_t uart16550_io_read(void *opaque, uint64_t offset, unsigned int size)
{
    struct uart16550 *u = opaque;
    uint64_t value = 0;

    for (unsigned int i = 0; i < size && i < 8; i++) {
        uint64_t off = offset + i;
        uint8_t byte = off < UART_NR_REGS ? uart16550_read(u, (unsigned int)off) : 0xff;

        value |= (uint64_t)byte << (8 * i);
    }
    return value;
}

void uart16550_io_write(void *opaque, uint64_t offset, unsigned int size, uint64_t value)
{
    struct uart16550 *u = opaque;

    for (unsigned int i = 0; i < size && i < 8; i++) {
        uint64_t off = offset + i;

        if (off < UART_NR_REGS)
            uart16550_write(u, (unsigned int)off, (uint8_t)(value >> (8 * i)));
    }
}

size_t uart16550_rx_room(const struct uart16550 *u)
{
    if (loopback(u))
        return 0;
    return fifo_capacity(u) - u->rx.count;
}

size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len)
{
    size_t stored = 0;

    if (loopback(u))
        return 0; /* the receiver listens to the transmitter only */
    for (size_t i = 0; i < len; i++) {
        bool overrun = u->rx.count >= fifo_capacity(u);

        if (receive_byte(u, buf[i]) && !overrun)
            stored++;
    }
    update_irq(u);
    return stored;
}

void uart16550_tx_kick(struct uart16550 *u)
{
    if (!u->tx.count)
        return;
    transmit(u);
    update_irq(u);
}

size_t uart16550_tx_pending(const struct uart16550 *u)
{
    return u->tx.count;
}

void uart16550_set_modem_lines(struct uart16550 *u, uint8_t lines)
{
    uint8_t before = modem_lines(u);

    u->modem_in = lines & MSR_LINES;
    note_line_change(u, before, modem_lines(u));
    update_irq(u);
}

uint16_t uart16550_divisor(const struct uart16550 *u)
{
    return (uint16_t)(u->dlm << 8 | u->dll);
}
