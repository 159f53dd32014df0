/*
 * The model seen through the eyes of Linux's 8250 driver: its port
 * autoconfiguration, its startup checks, termios setup, interrupt-driven
 * transmit and receive, and the polled console.  The driver's steps are
 * written here from its documented behaviour (the register accesses it is
 * known to make and what it concludes from them; see XEN-IN-QEMU.md), not
 * from its source.
 */
#include "uart_fixture.h"

enum port_type {
    PORT_NONE,          /* failed the IER or loopback test: no UART there */
    PORT_8250,
    PORT_16450,
    PORT_16550,         /* FIFO bits say "FIFO, unusable" */
    PORT_16550A,
    PORT_UNKNOWN,
    PORT_ST16C650V1,    /* EFR readable with only DLAB set */
    PORT_16650,         /* EFR readable behind LCR=0xBF */
    PORT_NS16550A,      /* National's bank switch answered */
    PORT_16750,         /* 64-byte FIFO bit sticks */
    PORT_XSCALE,        /* IER bit 6 (unit enable) sticks */
};

/* Tell the 16550A apart from its relatives; the FIFOs are already on. */
static enum port_type probe_16550a_family(struct fixture *f)
{
    uint8_t status1, status2;

    /* Offset 2 with DLAB set: EFR on an ST16C650V1, IIR (never 0 with FIFOs) here. */
    wr(f, UART_LCR, 0x80);
    if (rd(f, 2) == 0)
        return PORT_ST16C650V1;
    /* Behind LCR=0xBF: EFR on the 16650 family. */
    wr(f, UART_LCR, 0xbf);
    if (rd(f, 2) == 0)
        return PORT_16650;

    /* National parts expose MCR's loopback bit at offset 2 of bank 2 (LCR=0xE0). */
    wr(f, UART_LCR, 0);
    status1 = rd(f, UART_MCR);
    wr(f, UART_LCR, 0xe0);
    status2 = rd(f, 2);
    if (!((status2 ^ status1) & UART_MCR_LOOP)) {
        wr(f, UART_LCR, 0);
        wr(f, UART_MCR, status1 ^ UART_MCR_LOOP);
        wr(f, UART_LCR, 0xe0);
        status2 = rd(f, 2);
        wr(f, UART_LCR, 0);
        wr(f, UART_MCR, status1);
        if ((status2 ^ status1) & UART_MCR_LOOP)
            return PORT_NS16550A;
    }

    /* A 16750 reports its 64-byte FIFO in IIR bit 5, but only with DLAB set. */
    wr(f, UART_LCR, 0);
    wr(f, UART_FCR, 0x21);
    status1 = rd(f, UART_IIR) >> 5;
    wr(f, UART_FCR, 0x01);
    wr(f, UART_LCR, 0x80);
    wr(f, UART_FCR, 0x21);
    status2 = rd(f, UART_IIR) >> 5;
    wr(f, UART_FCR, 0x01);
    wr(f, UART_LCR, 0);
    if (status1 == 6 && status2 == 7)
        return PORT_16750;

    /* XScale ports keep IER bit 6. */
    status1 = rd(f, UART_IER);
    wr(f, UART_IER, status1 | 0x40);
    status2 = rd(f, UART_IER);
    wr(f, UART_IER, status1);
    if (status2 & 0x40)
        return PORT_XSCALE;
    return PORT_16550A;
}

static enum port_type autoconfig(struct fixture *f)
{
    uint8_t saved_ier, saved_mcr, saved_lcr, scratch2, scratch3;
    enum port_type type;

    /* Is anything there: IER must hold 0 and 0x0F. */
    saved_ier = rd(f, UART_IER);
    wr(f, UART_IER, 0);
    scratch2 = rd(f, UART_IER) & 0x0f;
    wr(f, UART_IER, 0x0f);
    scratch3 = rd(f, UART_IER) & 0x0f;
    wr(f, UART_IER, saved_ier);
    if (scratch2 != 0 || scratch3 != 0x0f)
        return PORT_NONE;

    saved_mcr = rd(f, UART_MCR);
    saved_lcr = rd(f, UART_LCR);

    /* Loopback with RTS and OUT2 must show CTS and DCD (and nothing else). */
    wr(f, UART_MCR, UART_MCR_LOOP | 0x0a);
    scratch2 = rd(f, UART_MSR) & 0xf0;
    wr(f, UART_MCR, saved_mcr);
    if (scratch2 != 0x90)
        return PORT_NONE;

    /* Zero EFR in case this is a 16650-class part (on a 16550A: FCR=0). */
    wr(f, UART_LCR, 0xbf);
    wr(f, 2, 0);
    wr(f, UART_LCR, 0);

    wr(f, UART_FCR, UART_FCR_ENABLE);
    switch (rd(f, UART_IIR) >> 6) {
    case 0:
        /* No FIFO: a scratch register tells a 16450 from an 8250. */
        wr(f, UART_SCR, 0xa5);
        scratch2 = rd(f, UART_SCR);
        wr(f, UART_SCR, 0x5a);
        scratch3 = rd(f, UART_SCR);
        type = scratch2 == 0xa5 && scratch3 == 0x5a ? PORT_16450 : PORT_8250;
        break;
    case 1:
        type = PORT_UNKNOWN;
        break;
    case 2:
        type = PORT_16550;
        break;
    default:
        type = probe_16550a_family(f);
        break;
    }

    wr(f, UART_LCR, saved_lcr);
    /* Reset the FIFOs, drop anything received, interrupts off. */
    wr(f, UART_FCR, UART_FCR_ENABLE);
    wr(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
    wr(f, UART_FCR, 0);
    rd(f, UART_RBR);
    wr(f, UART_IER, 0);
    return type;
}

static void clear_fifos(struct fixture *f)
{
    wr(f, UART_FCR, UART_FCR_ENABLE);
    wr(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
    wr(f, UART_FCR, 0);
}

/*
 * Opening the tty: the driver's startup checks.  Returns false where Linux
 * would flag a bug (and fall back to polling or a timer).
 */
static bool startup(struct fixture *f)
{
    uint8_t iir1, iir2, lsr;

    clear_fifos(f);
    rd(f, UART_LSR);
    rd(f, UART_RBR);
    rd(f, UART_IIR);
    rd(f, UART_MSR);
    if (rd(f, UART_LSR) == 0xff)
        return false;
    wr(f, UART_LCR, 0x03);

    /* THRE must re-assert when THRI is enabled again after an IIR read. */
    while (!(rd(f, UART_LSR) & UART_LSR_THRE))
        ;
    wr(f, UART_IER, UART_IER_ETBEI);
    iir1 = rd(f, UART_IIR);
    wr(f, UART_IER, 0);
    wr(f, UART_IER, UART_IER_ETBEI);
    iir2 = rd(f, UART_IIR);
    wr(f, UART_IER, 0);
    if (!(iir1 & UART_IIR_NO_INT) && (iir2 & UART_IIR_NO_INT))
        return false;

    wr(f, UART_LCR, 0x03);
    wr(f, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);

    /* Enabling THRI with the transmitter empty must interrupt. */
    wr(f, UART_IER, UART_IER_ETBEI);
    lsr = rd(f, UART_LSR);
    iir1 = rd(f, UART_IIR);
    wr(f, UART_IER, 0);
    if ((lsr & UART_LSR_TEMT) && (iir1 & UART_IIR_NO_INT))
        return false;

    rd(f, UART_LSR);
    rd(f, UART_RBR);
    rd(f, UART_IIR);
    rd(f, UART_MSR);
    wr(f, UART_IER, UART_IER_ELSI | UART_IER_ERBFI);
    return true;
}

/* termios: 115200 8N1 (divisor 1), FIFOs on with an 8-byte RX trigger. */
static void set_termios(struct fixture *f)
{
    wr(f, UART_LCR, UART_LCR_DLAB | 0x03);
    wr(f, UART_DLL, 1);
    wr(f, UART_DLM, 0);
    wr(f, UART_LCR, 0x03);
    wr(f, UART_FCR, 0x81);
}

/* The interrupt handler: returns true if the port had something pending. */
struct tty {
    const char *tx;     /* left to send */
    char rx[64];
    size_t rx_len;
    uint8_t ier;
    unsigned int handled;   /* rising edges the handler has been run for */
};

static bool isr(struct fixture *f, struct tty *t)
{
    uint8_t iir = rd(f, UART_IIR), lsr;

    if (iir & UART_IIR_NO_INT)
        return false;
    lsr = rd(f, UART_LSR);
    while (lsr & UART_LSR_DR) {
        assert_true(t->rx_len < sizeof(t->rx));
        t->rx[t->rx_len++] = (char)rd(f, UART_RBR);
        lsr = rd(f, UART_LSR);
    }
    rd(f, UART_MSR);
    if ((lsr & UART_LSR_THRE) && (t->ier & UART_IER_ETBEI)) {
        for (int n = 0; n < UART_FIFO_SIZE && *t->tx; n++)
            wr(f, UART_THR, (uint8_t)*t->tx++);
        if (!*t->tx) {
            t->ier &= (uint8_t)~UART_IER_ETBEI;
            wr(f, UART_IER, t->ier);
        }
    }
    return true;
}

/*
 * Run handlers the way an edge-triggered PIC would: a rising edge of the
 * line latches a request, and each request runs the handler, which loops
 * until the port reports nothing pending.  Counts the handler runs.
 */
static void deliver_interrupts(struct fixture *f, struct tty *t, unsigned int *runs)
{
    for (int guard = 0; guard < 1000; guard++) {
        if (f->irq_rises == t->handled)
            return;
        t->handled = f->irq_rises;
        (*runs)++;
        while (isr(f, t))
            ;
    }
    fail_msg("interrupt storm");
}

static void test_autoconfig_finds_16550a(void **state)
{
    FX;

    assert_int_equal(autoconfig(f), PORT_16550A);
    /* The probe left nothing behind that shows on the line. */
    assert_int_equal(f->out_len, 0);
    assert_false(f->irq);
}

static void test_autoconfig_after_guest_activity(void **state)
{
    FX;

    /* A previous driver left loopback, FIFOs, DLAB and data around. */
    wr(f, UART_FCR, 0xc7);
    wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
    wr(f, UART_THR, 'a');
    wr(f, UART_LCR, UART_LCR_DLAB | 0x03);
    wr(f, UART_LCR, 0x03);
    assert_int_equal(autoconfig(f), PORT_16550A);
}

static void test_idle_port_registers(void **state)
{
    FX;

    assert_int_equal(autoconfig(f), PORT_16550A);
    set_termios(f);
    assert_int_equal(rd(f, UART_LSR), 0x60);
    assert_int_equal(rd(f, UART_IIR), 0xc1);
    assert_int_equal(uart16550_divisor(&f->u), 1);
    wr(f, UART_FCR, 0x07);
    assert_int_equal(rd(f, UART_IIR), 0xc1);
    assert_int_equal(rd(f, UART_LSR), 0x60);
}

static void test_startup_checks_pass(void **state)
{
    FX;

    assert_int_equal(autoconfig(f), PORT_16550A);
    assert_true(startup(f));
    set_termios(f);
    assert_int_equal(rd(f, UART_IIR), 0xc1);
    assert_false(f->irq);
}

static void test_interrupt_driven_transmit(void **state)
{
    FX;
    const char *msg = "Debian GNU/Linux 12 debian ttyS0\r\n\r\ndebian login: ";
    struct tty t = { .tx = msg, .ier = UART_IER_ELSI | UART_IER_ERBFI };
    unsigned int runs = 0;

    assert_int_equal(autoconfig(f), PORT_16550A);
    assert_true(startup(f));
    set_termios(f);
    t.handled = f->irq_rises;

    /* write(2) on the tty: enable THRI, the interrupt does the rest. */
    t.ier |= UART_IER_ETBEI;
    wr(f, UART_IER, t.ier);
    assert_true(f->irq);
    deliver_interrupts(f, &t, &runs);
    assert_true(runs >= 1);
    assert_int_equal(f->out_len, strlen(msg));
    assert_memory_equal(f->out, msg, strlen(msg));
    assert_false(f->irq);
    assert_int_equal(rd(f, UART_IER), UART_IER_ELSI | UART_IER_ERBFI);
}

static void test_interrupt_driven_receive(void **state)
{
    FX;
    struct tty t = { .tx = "", .ier = UART_IER_ELSI | UART_IER_ERBFI };
    unsigned int runs = 0;

    assert_int_equal(autoconfig(f), PORT_16550A);
    assert_true(startup(f));
    set_termios(f);
    t.handled = f->irq_rises;

    /* Fewer bytes than the trigger level: the character timeout reports them. */
    rx(f, "root\r");
    assert_true(f->irq);
    deliver_interrupts(f, &t, &runs);
    assert_int_equal(runs, 1);
    assert_int_equal(t.rx_len, 5);
    assert_memory_equal(t.rx, "root\r", 5);

    /* A full FIFO's worth. */
    rx(f, "0123456789abcdef");
    deliver_interrupts(f, &t, &runs);
    assert_int_equal(runs, 2);
    assert_int_equal(t.rx_len, 21);
    assert_memory_equal(t.rx + 5, "0123456789abcdef", 16);
    assert_int_equal(rd(f, UART_LSR), 0x60);
}

/* printk: polled output with IER saved, cleared, restored. */
static void console_write(struct fixture *f, const char *s)
{
    uint8_t ier = rd(f, UART_IER);

    wr(f, UART_IER, 0);
    for (; *s; s++) {
        while (!(rd(f, UART_LSR) & UART_LSR_THRE))
            ;
        wr(f, UART_THR, (uint8_t)*s);
    }
    while ((rd(f, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT)) !=
           (UART_LSR_THRE | UART_LSR_TEMT))
        ;
    wr(f, UART_IER, ier);
}

static void test_console_between_tty_writes(void **state)
{
    FX;
    struct tty t = { .tx = "tty", .ier = UART_IER_ELSI | UART_IER_ERBFI | UART_IER_ETBEI };
    unsigned int runs = 0;

    assert_int_equal(autoconfig(f), PORT_16550A);
    assert_true(startup(f));
    set_termios(f);
    t.handled = f->irq_rises;
    /* The tty has just enabled THRI; printk gets in before the handler runs. */
    wr(f, UART_IER, t.ier);
    rd(f, UART_IIR); /* a handler that found nothing to send yet */
    assert_false(f->irq);
    console_write(f, "[ 1.0] printk\n");
    /* Restoring IER with THRI re-arms THRE, so the tty output resumes. */
    assert_true(f->irq);
    deliver_interrupts(f, &t, &runs);
    assert_int_equal(f->out_len, strlen("[ 1.0] printk\ntty"));
    assert_memory_equal(f->out, "[ 1.0] printk\ntty", f->out_len);
}

static void test_console_when_line_is_slow(void **state)
{
    FX;

    assert_int_equal(autoconfig(f), PORT_16550A);
    set_termios(f);
    /* The line takes one byte per poll of LSR: the model holds the rest. */
    f->line_room = 0;
    wr(f, UART_THR, 'o');
    assert_int_equal(rd(f, UART_LSR) & UART_LSR_THRE, 0);
    f->line_room = 1;
    uart16550_tx_kick(&f->u);
    assert_int_equal(rd(f, UART_LSR), 0x60);
    wr(f, UART_THR, 'k');
    f->line_room = SIZE_MAX;
    uart16550_tx_kick(&f->u);
    assert_int_equal(f->out_len, 2);
    assert_memory_equal(f->out, "ok", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
        T(test_autoconfig_finds_16550a),
        T(test_autoconfig_after_guest_activity),
        T(test_idle_port_registers),
        T(test_startup_checks_pass),
        T(test_interrupt_driven_transmit),
        T(test_interrupt_driven_receive),
        T(test_console_between_tty_writes),
        T(test_console_when_line_is_slow),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
