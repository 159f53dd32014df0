/*
 * A National Semiconductor PC16550D-compatible UART ("16550A"), register
 * level, with no dependency on libioreq or any OS facility: the program that
 * hosts it forwards port accesses to uart16550_read()/uart16550_write() (or
 * to the ioreq-shaped adapters uart16550_io_read()/uart16550_io_write()),
 * hands received bytes to uart16550_receive(), and is told about transmitted
 * bytes and the interrupt line through two callbacks.
 *
 * Registers (offset from the base port; DLAB is LCR bit 7):
 *
 *   0  read: RBR (DLAB=0) / DLL (DLAB=1)   write: THR (DLAB=0) / DLL (DLAB=1)
 *   1  IER (DLAB=0) / DLM (DLAB=1)
 *   2  read: IIR                            write: FCR
 *   3  LCR          4  MCR          5  LSR (writes ignored)
 *   6  MSR (writes ignored)         7  SCR
 *
 * Model of the line: the transmitter is as fast as the host lets it be.  A
 * byte written to THR enters the TX FIFO (one byte deep in 16450 mode) and is
 * immediately offered to the tx callback; bytes the callback does not take
 * stay in the FIFO (LSR.THRE and TEMT read 0) until uart16550_tx_kick().  In
 * loopback mode (MCR bit 4) transmitted bytes go to the receiver instead and
 * received bytes from the host are refused.  The receive FIFO holds 16 bytes
 * (one in 16450 mode); a byte arriving at a full receiver sets LSR.OE and is
 * lost (16450 mode: it replaces the held byte, as the 16450 does).
 *
 * Interrupts, highest priority first (IIR bits 3..0):
 *   0x6 receiver line status  LSR OE/PE/FE/BI with IER.ELSI; cleared by reading LSR
 *   0x4 received data         FIFO at or above the trigger level (16450: DR)
 *   0xC character timeout     FIFO mode, 1..trigger-1 bytes waiting; the
 *                             four-character timeout is taken as elapsed at
 *                             once (the line has no speed here)
 *   0x2 THR empty             set when the TX FIFO becomes empty and when
 *                             IER.ETBEI goes 0 -> 1 while it is empty; cleared
 *                             by writing THR or by reading IIR while it is
 *                             the interrupt IIR reports
 *   0x0 modem status          MSR delta bits with IER.EDSSI; cleared by reading MSR
 * IIR bits 7..6 read 11 while the FIFOs are enabled; bit 0 is 1 when nothing
 * is pending.  The interrupt line the model reports is (an enabled interrupt
 * is pending) AND MCR.OUT2, which is how a PC gates a COM port's IRQ.  (A
 * real PC also loses the IRQ in loopback mode, because the OUT2 pin is forced
 * inactive there; like other emulators, this model keeps OUT2 as written.)
 *
 * Not modelled: parity/framing errors and break (nothing on the host side
 * produces them), DMA mode signalling, baud-rate timing.
 */
#ifndef UART16550_H
#define UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Register offsets. */
enum {
    UART_RBR = 0, UART_THR = 0, UART_DLL = 0,
    UART_IER = 1, UART_DLM = 1,
    UART_IIR = 2, UART_FCR = 2,
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_MSR = 6,
    UART_SCR = 7,
    UART_NR_REGS = 8,
};

/* IER */
#define UART_IER_ERBFI 0x01 /* received data available (and timeout) */
#define UART_IER_ETBEI 0x02 /* transmitter holding register empty */
#define UART_IER_ELSI  0x04 /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */

/* IIR */
#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI    0x00
#define UART_IIR_THRI   0x02
#define UART_IIR_RDI    0x04
#define UART_IIR_RLSI   0x06
#define UART_IIR_CTI    0x0c
#define UART_IIR_FIFO   0xc0

/* FCR */
#define UART_FCR_ENABLE    0x01
#define UART_FCR_CLEAR_RX  0x02
#define UART_FCR_CLEAR_TX  0x04
#define UART_FCR_DMA       0x08
#define UART_FCR_TRIG_MASK 0xc0

/* LCR */
#define UART_LCR_BREAK 0x40
#define UART_LCR_DLAB  0x80

/* MCR */
#define UART_MCR_DTR  0x01
#define UART_MCR_RTS  0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

/* LSR */
#define UART_LSR_DR     0x01
#define UART_LSR_OE     0x02
#define UART_LSR_PE     0x04
#define UART_LSR_FE     0x08
#define UART_LSR_BI     0x10
#define UART_LSR_THRE   0x20
#define UART_LSR_TEMT   0x40
#define UART_LSR_FIFOE  0x80

/* MSR */
#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS  0x10
#define UART_MSR_DSR  0x20
#define UART_MSR_RI   0x40
#define UART_MSR_DCD  0x80

#define UART_FIFO_SIZE 16

struct uart16550_ops {
    /*
     * Transmit: offer `len` bytes to the line; return how many were taken.
     * Returning fewer leaves the rest in the TX FIFO (the line is busy):
     * call uart16550_tx_kick() once it can take more.  Optional: without it
     * transmitted bytes are discarded.
     */
    size_t (*tx)(void *opaque, const uint8_t *buf, size_t len);
    /* The interrupt line changed level.  Optional. */
    void (*irq)(void *opaque, bool level);
};

struct uart16550_fifo {
    uint8_t data[UART_FIFO_SIZE];
    uint8_t head; /* index of the oldest byte */
    uint8_t count;
};

/* The state; treat the fields as private and use the functions. */
struct uart16550 {
    const struct uart16550_ops *ops;
    void *opaque;

    struct uart16550_fifo rx, tx;
    uint8_t rbr_last;     /* what RBR reads when the receiver is empty */
    uint8_t ier, lcr, mcr, scr;
    uint8_t lsr_errors;   /* LSR OE/PE/FE/BI, cleared when LSR is read */
    uint8_t msr_delta;    /* MSR bits 3..0, cleared when MSR is read */
    uint8_t modem_in;     /* CTS/DSR/RI/DCD of the far end (MSR 7..4 layout) */
    uint8_t dll, dlm;
    bool fifo_enabled;
    uint8_t rx_trigger;   /* 1, 4, 8 or 14 */
    uint8_t fcr_dma;      /* FCR bit 3 as last written (no effect) */
    bool thre_pending;    /* the THR-empty interrupt condition */
    bool irq_level;       /* last level reported through ops->irq */
};

/*
 * Initialise at power-on state: IER=0, IIR=0x01, LCR=0, MCR=0, LSR=0x60,
 * FIFOs off, the far end's modem lines DCD+DSR+CTS (a connected line),
 * divisor 12 (9600 baud; the chip leaves it undefined).  ops may be NULL.
 */
void uart16550_init(struct uart16550 *u, const struct uart16550_ops *ops, void *opaque);
/* Master reset: as init, keeping the callbacks.  Reports the IRQ going low. */
void uart16550_reset(struct uart16550 *u);

/* One byte-wide register access; reg is 0..7 (higher bits ignored). */
uint8_t uart16550_read(struct uart16550 *u, unsigned int reg);
void uart16550_write(struct uart16550 *u, unsigned int reg, uint8_t value);

/*
 * Adapters with the shape of libioreq's region callbacks (opaque is the
 * struct uart16550).  A 2-, 4- or 8-byte access is split into byte accesses
 * at successive offsets, as an 8-bit device on an ISA bus sees it; bytes
 * beyond offset 7 read as 0xff and ignore writes.
 */
uint64_t uart16550_io_read(void *opaque, uint64_t offset, unsigned int size);
void uart16550_io_write(void *opaque, uint64_t offset, unsigned int size, uint64_t value);

/*
 * Bytes the receiver takes now without overrun: free RX FIFO space (0 or 1
 * in 16450 mode), and 0 in loopback mode, where the line is disconnected.
 */
size_t uart16550_rx_room(const struct uart16550 *u);
/*
 * Bytes arrive from the line.  In loopback mode they are ignored (returns
 * 0).  Otherwise every byte arrives: those beyond the room overrun (LSR.OE).
 * Returns the number that arrived without overrunning.
 */
size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len);

/* The line can take more output: offer the TX FIFO's bytes again. */
void uart16550_tx_kick(struct uart16550 *u);
/* Bytes waiting in the TX FIFO. */
size_t uart16550_tx_pending(const struct uart16550 *u);

/*
 * The far end's modem lines in MSR bit positions (UART_MSR_CTS, _DSR, _RI,
 * _DCD); changes set the delta bits (RI: only its falling edge, TERI), and
 * are visible in MSR unless in loopback mode.
 */
void uart16550_set_modem_lines(struct uart16550 *u, uint8_t lines);

/* Current level of the interrupt line: pending AND MCR.OUT2. */
bool uart16550_irq_line(const struct uart16550 *u);
/* The divisor latch (DLM << 8 | DLL). */
uint16_t uart16550_divisor(const struct uart16550 *u);

#ifdef __cplusplus
}
#endif

#endif /* UART16550_H */
