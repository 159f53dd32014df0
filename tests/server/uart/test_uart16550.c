/*
 * 16550A register model: register by register, FIFOs, interrupts and the
 * interrupt line, through the model's own API (no libioreq).
 */
#include "uart_fixture.h"

/* ---- power-on state and plain registers ----------------------------------- */

static void test_power_on_values(void **state)
{
    FX;

    assert_int_equal(rd(f, UART_IER), 0x00);
    assert_int_equal(rd(f, UART_IIR), 0x01);
    assert_int_equal(rd(f, UART_LCR), 0x00);
    assert_int_equal(rd(f, UART_MCR), 0x00);
    assert_int_equal(rd(f, UART_LSR), 0x60);
    /* A connected far end: DCD, DSR, CTS; no deltas. */
    assert_int_equal(rd(f, UART_MSR), 0xb0);
    assert_false(uart16550_irq_line(&f->u));
    assert_int_equal(f->irq_calls, 0);
}

static void test_scratch_register(void **state)
{
    FX;

    for (unsigned int v = 0; v < 256; v++) {
        wr(f, UART_SCR, (uint8_t)v);
        assert_int_equal(rd(f, UART_SCR), v);
    }
    /* DLAB does not hide it. */
    wr(f, UART_LCR, UART_LCR_DLAB);
    wr(f, UART_SCR, 0x5a);
    assert_int_equal(rd(f, UART_SCR), 0x5a);
}

static void test_ier_keeps_low_nibble(void **state)
{
    FX;

    wr(f, UART_IER, 0x00);
    assert_int_equal(rd(f, UART_IER), 0x00);
    wr(f, UART_IER, 0x0f);
    assert_int_equal(rd(f, UART_IER), 0x0f);
    wr(f, UART_IER, 0xff);
    assert_int_equal(rd(f, UART_IER), 0x0f);
    wr(f, UART_IER, 0x40); /* an XScale-only bit: not here */
    assert_int_equal(rd(f, UART_IER), 0x00);
}

static void test_lcr_and_mcr_read_back(void **state)
{
    FX;

    wr(f, UART_LCR, 0x1b);
    assert_int_equal(rd(f, UART_LCR), 0x1b);
    wr(f, UART_LCR, 0x03);
    assert_int_equal(rd(f, UART_LCR), 0x03);
    wr(f, UART_MCR, 0xff); /* bits 7..5 do not exist on a 16550A */
    assert_int_equal(rd(f, UART_MCR), 0x1f);
    wr(f, UART_MCR, 0x0b);
    assert_int_equal(rd(f, UART_MCR), 0x0b);
}

static void test_lsr_msr_writes_ignored(void **state)
{
    FX;

    wr(f, UART_LSR, 0xff);
    assert_int_equal(rd(f, UART_LSR), 0x60);
    wr(f, UART_MSR, 0x0f);
    assert_int_equal(rd(f, UART_MSR), 0xb0);
}

static void test_divisor_latch(void **state)
{
    FX;

    wr(f, UART_IER, 0x05);
    wr(f, UART_LCR, UART_LCR_DLAB | 0x03);
    wr(f, UART_DLL, 0x01);
    wr(f, UART_DLM, 0x00);
    assert_int_equal(rd(f, UART_DLL), 0x01);
    assert_int_equal(rd(f, UART_DLM), 0x00);
    assert_int_equal(uart16550_divisor(&f->u), 1);
    wr(f, UART_DLL, 0x80);
    wr(f, UART_DLM, 0x25);
    assert_int_equal(uart16550_divisor(&f->u), 0x2580);
    /* Writing the latch transmits nothing and leaves IER alone. */
    assert_int_equal(f->out_len, 0);
    wr(f, UART_LCR, 0x03);
    assert_int_equal(rd(f, UART_IER), 0x05);
    assert_int_equal(rd(f, UART_LCR), 0x03);
    /* With DLAB off, offsets 0/1 are THR and IER again. */
    wr(f, UART_THR, 'x');
    assert_int_equal(f->out_len, 1);
    assert_int_equal(uart16550_divisor(&f->u), 0x2580);
    /* Reading DLL does not consume received data. */
    rx(f, "q");
    wr(f, UART_LCR, UART_LCR_DLAB);
    assert_int_equal(rd(f, UART_DLL), 0x80);
    assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    wr(f, UART_LCR, 0);
    assert_int_equal(rd(f, UART_RBR), 'q');
}

/* ---- transmitter -------------------------------------------------------------- */

static void test_transmit_goes_to_line(void **state)
{
    FX;
    const char *msg = "hello\r\n";

    for (const char *p = msg; *p; p++) {
        assert_int_equal(rd(f, UART_LSR) & UART_LSR_THRE, UART_LSR_THRE);
        wr(f, UART_THR, (uint8_t)*p);
    }
    assert_int_equal(f->out_len, strlen(msg));
    assert_memory_equal(f->out, msg, strlen(msg));
    assert_int_equal(rd(f, UART_LSR), 0x60);
}

static void test_busy_line_fills_tx_fifo(void **state)
{
    FX;

    wr(f, UART_FCR, UART_FCR_ENABLE);
    f->line_room = 0;
    for (int i = 0; i < UART_FIFO_SIZE; i++)
        wr(f, UART_THR, (uint8_t)('a' + i));
    assert_int_equal(uart16550_tx_pending(&f->u), UART_FIFO_SIZE);
    assert_int_equal(rd(f, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), 0);
    wr(f, UART_THR, '!'); /* into a full FIFO: lost */
    assert_int_equal(uart16550_tx_pending(&f->u), UART_FIFO_SIZE);

    f->line_room = 5;
    uart16550_tx_kick(&f->u);
    assert_int_equal(f->out_len, 5);
    assert_int_equal(uart16550_tx_pending(&f->u), UART_FIFO_SIZE - 5);
    assert_int_equal(rd(f, UART_LSR) & UART_LSR_THRE, 0);

    f->line_room = SIZE_MAX;
    uart16550_tx_kick(&f->u);
    assert_int_equal(f->out_len, UART_FIFO_SIZE);
    assert_memory_equal(f->out, "abcdefghijklmnop", UART_FIFO_SIZE);
    assert_int_equal(rd(f, UART_LSR), 0x60);
}

static void test_busy_line_16450_mode_holds_one(void **state)
{
    FX;

    f->line_room = 0;
    wr(f, UART_THR, 'a');
    wr(f, UART_THR, 'b'); /* THR full: lost */
    assert_int_equal(uart16550_tx_pending(&f->u), 1);
    f->line_room = SIZE_MAX;
    uart16550_tx_kick(&f->u);
    assert_int_equal(f->out_len, 1);
    assert_int_equal(f->out[0], 'a');
}

static void test_fcr_clear_tx(void **state)
{
    FX;

    wr(f, UART_FCR, UART_FCR_ENABLE);
    f->line_room = 0;
    wr(f, UART_THR, 'a');
    wr(f, UART_THR, 'b');
    wr(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_TX);
    assert_int_equal(uart16550_tx_pending(&f->u), 0);
    assert_int_equal(rd(f, UART_LSR), 0x60);
    f->line_room = SIZE_MAX;
    uart16550_tx_kick(&f->u);
    assert_int_equal(f->out_len, 0);
}

static void test_no_tx_callback_discards(void **state)
{
    struct uart16550 u;

    (void)state;
    uart16550_init(&u, NULL, NULL);
    uart16550_write(&u, UART_THR, 'a');
    assert_int_equal(uart16550_read(&u, UART_LSR), 0x60);
    uart16550_write(&u, UART_IER, UART_IER_ETBEI);
    assert_int_equal(uart16550_read(&u, UART_IIR), 0x02);
}

/* ---- receiver ------------------------------------------------------------------- */

static void test_receive_16450_mode(void **state)
{
    FX;

    assert_int_equal(uart16550_rx_room(&f->u), 1);
    wr(f, UART_IER, UART_IER_ERBFI);
    rx(f, "k");
    assert_int_equal(rd(f, UART_LSR), 0x61);
    assert_int_equal(rd(f, UART_IIR), 0x04);
    assert_int_equal(uart16550_rx_room(&f->u), 0);
    assert_int_equal(rd(f, UART_RBR), 'k');
    assert_int_equal(rd(f, UART_LSR), 0x60);
    assert_int_equal(rd(f, UART_IIR), 0x01);
}

static void test_overrun_16450_mode_replaces(void **state)
{
    FX;

    rx(f, "ab");
    assert_int_equal(rd(f, UART_LSR), 0x63); /* DR, OE, THRE, TEMT */
    assert_int_equal(rd(f, UART_LSR), 0x61); /* OE clears on read */
    assert_int_equal(rd(f, UART_RBR), 'b');
    assert_int_equal(rd(f, UART_LSR), 0x60);
}

static void test_rx_fifo_fill_and_overflow(void **state)
{
    FX;
    const char *in = "0123456789abcdef";

    wr(f, UART_FCR, UART_FCR_ENABLE);
    assert_int_equal(uart16550_rx_room(&f->u), 16);
    assert_int_equal(uart16550_receive(&f->u, (const uint8_t *)in, 16), 16);
    assert_int_equal(uart16550_rx_room(&f->u), 0);
    assert_int_equal(rd(f, UART_LSR), 0x61);
    assert_int_equal(uart16550_receive(&f->u, (const uint8_t *)"XY", 2), 0);
    assert_int_equal(rd(f, UART_LSR), 0x63);
    assert_int_equal(rd(f, UART_LSR), 0x61);
    /* The FIFO kept the first 16 in order; the overrunning bytes are lost. */
    for (int i = 0; i < 16; i++)
        assert_int_equal(rd(f, UART_RBR), in[i]);
    assert_int_equal(rd(f, UART_LSR), 0x60);
    assert_int_equal(uart16550_rx_room(&f->u), 16);
}

static void test_rbr_when_empty_repeats_last(void **state)
{
    FX;

    rx(f, "z");
    assert_int_equal(rd(f, UART_RBR), 'z');
    assert_int_equal(rd(f, UART_RBR), 'z');
    assert_int_equal(rd(f, UART_LSR), 0x60);
}

static void test_rx_trigger_levels_and_timeout(void **state)
{
    static const struct { uint8_t fcr; unsigned int level; } cases[] = {
        { 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 },
    };
    FX;

    wr(f, UART_IER, UART_IER_ERBFI);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        wr(f, UART_FCR, cases[c].fcr | UART_FCR_CLEAR_RX);
        for (unsigned int n = 1; n <= 15; n++) {
            rx(f, "x");
            /* Below the trigger the character timeout reports the data. */
            assert_int_equal(rd(f, UART_IIR), n >= cases[c].level ? 0xc4 : 0xcc);
        }
        /* Reading below the trigger level turns RDA into CTI, then none. */
        for (unsigned int n = 15; n > 0; n--) {
            assert_int_equal(rd(f, UART_IIR), n >= cases[c].level ? 0xc4 : 0xcc);
            rd(f, UART_RBR);
        }
        assert_int_equal(rd(f, UART_IIR), 0xc1);
    }
}

static void test_fcr_clear_rx_and_mode_switch(void **state)
{
    FX;

    wr(f, UART_FCR, UART_FCR_ENABLE);
    rx(f, "abc");
    wr(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    assert_int_equal(rd(f, UART_LSR), 0x60);
    rx(f, "abc");
    /* Leaving FIFO mode empties the FIFOs, and IIR loses bits 7..6. */
    wr(f, UART_FCR, 0);
    assert_int_equal(rd(f, UART_LSR), 0x60);
    assert_int_equal(rd(f, UART_IIR), 0x01);
    rx(f, "d");
    /* Entering it empties them too. */
    wr(f, UART_FCR, UART_FCR_ENABLE);
    assert_int_equal(rd(f, UART_LSR), 0x60);
    assert_int_equal(rd(f, UART_IIR), 0xc1);
    /* With bit 0 clear in a write that keeps FIFO mode off, other bits do nothing. */
    wr(f, UART_FCR, 0);
    rx(f, "e");
    wr(f, UART_FCR, UART_FCR_CLEAR_RX);
    assert_int_equal(rd(f, UART_LSR), 0x61);
}

/* ---- loopback --------------------------------------------------------------------- */

static void test_loopback_echo(void **state)
{
    FX;

    wr(f, UART_FCR, UART_FCR_ENABLE);
    wr(f, UART_MCR, UART_MCR_LOOP);
    for (const char *p = "echo"; *p; p++)
        wr(f, UART_THR, (uint8_t)*p);
    assert_int_equal(f->out_len, 0); /* nothing leaves the chip */
    assert_int_equal(rd(f, UART_LSR), 0x61);
    for (const char *p = "echo"; *p; p++)
        assert_int_equal(rd(f, UART_RBR), *p);
    assert_int_equal(rd(f, UART_LSR), 0x60);

    /* The line is disconnected from the receiver. */
    assert_int_equal(uart16550_rx_room(&f->u), 0);
    assert_int_equal(uart16550_receive(&f->u, (const uint8_t *)"no", 2), 0);
    assert_int_equal(rd(f, UART_LSR), 0x60);

    /* Looping 17 bytes into the FIFO overruns. */
    for (int i = 0; i < 17; i++)
        wr(f, UART_THR, (uint8_t)i);
    assert_int_equal(rd(f, UART_LSR), 0x63);

    wr(f, UART_MCR, 0);
    wr(f, UART_THR, '!');
    assert_int_equal(f->out_len, 1);
    assert_int_equal(uart16550_rx_room(&f->u), 0); /* still full from the loop */
}

static void test_loopback_msr_mapping(void **state)
{
    static const struct { uint8_t mcr, msr; } map[] = {
        { UART_MCR_DTR, UART_MSR_DSR },
        { UART_MCR_RTS, UART_MSR_CTS },
        { UART_MCR_OUT1, UART_MSR_RI },
        { UART_MCR_OUT2, UART_MSR_DCD },
    };
    FX;

    wr(f, UART_MCR, UART_MCR_LOOP | 0x0a); /* RTS + OUT2: CTS + DCD */
    assert_int_equal(rd(f, UART_MSR) & 0xf0, 0x90);
    for (size_t i = 0; i < 4; i++) {
        wr(f, UART_MCR, UART_MCR_LOOP | map[i].mcr);
        assert_int_equal(rd(f, UART_MSR) & 0xf0, map[i].msr);
    }
    wr(f, UART_MCR, UART_MCR_LOOP | 0x0f);
    assert_int_equal(rd(f, UART_MSR) & 0xf0, 0xf0);
    wr(f, UART_MCR, UART_MCR_LOOP);
    assert_int_equal(rd(f, UART_MSR) & 0xf0, 0x00);
    /* Out of loopback, the far end's lines again. */
    wr(f, UART_MCR, 0x0f);
    assert_int_equal(rd(f, UART_MSR) & 0xf0, 0xb0);
}

static void test_msr_delta_bits(void **state)
{
    FX;

    wr(f, UART_MCR, UART_MCR_LOOP); /* 0xb0 -> 0x00: CTS, DSR, DCD changed */
    assert_int_equal(rd(f, UART_MSR), 0x0b);
    assert_int_equal(rd(f, UART_MSR), 0x00); /* reading clears the deltas */
    wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1); /* RI rises: no TERI */
    assert_int_equal(rd(f, UART_MSR), 0x40);
    wr(f, UART_MCR, UART_MCR_LOOP); /* RI falls: TERI */
    assert_int_equal(rd(f, UART_MSR), 0x04);
    wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
    assert_int_equal(rd(f, UART_MSR), 0x11);
    wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR);
    assert_int_equal(rd(f, UART_MSR), 0x32);
    wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR | UART_MCR_OUT2);
    assert_int_equal(rd(f, UART_MSR), 0xb8);
}

static void test_modem_lines_from_far_end(void **state)
{
    FX;

    uart16550_set_modem_lines(&f->u, UART_MSR_CTS | UART_MSR_RI);
    assert_int_equal(rd(f, UART_MSR), 0x5a); /* CTS, RI; DDSR, DDCD */
    uart16550_set_modem_lines(&f->u, UART_MSR_CTS);
    assert_int_equal(rd(f, UART_MSR), 0x14); /* TERI */
    /* Hidden in loopback; the change shows when loopback ends. */
    wr(f, UART_MCR, UART_MCR_LOOP);
    rd(f, UART_MSR);
    uart16550_set_modem_lines(&f->u, 0xb0);
    assert_int_equal(rd(f, UART_MSR), 0x00);
    wr(f, UART_MCR, 0);
    assert_int_equal(rd(f, UART_MSR), 0xbb);
}

/* ---- interrupts ---------------------------------------------------------------------- */

/* What Linux's startup checks: IER=THRI interrupts, reading IIR acks, re-enabling re-arms. */
static void test_thre_interrupt_reasserts(void **state)
{
    FX;

    wr(f, UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(f, UART_IIR), 0x02);
    assert_int_equal(rd(f, UART_IIR), 0x01); /* reading IIR cleared it */
    wr(f, UART_IER, 0);
    wr(f, UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(f, UART_IIR), 0x02);
    wr(f, UART_IER, 0);

    /* The same with FIFOs on: 0xC2. */
    wr(f, UART_FCR, UART_FCR_ENABLE);
    wr(f, UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(f, UART_IIR), 0xc2);
    assert_int_equal(rd(f, UART_IIR), 0xc1);
    wr(f, UART_IER, 0);
    wr(f, UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(f, UART_IIR), 0xc2);

    /* Rewriting IER with ETBEI still set does not re-arm it. */
    wr(f, UART_IER, UART_IER_ETBEI | UART_IER_ERBFI);
    assert_int_equal(rd(f, UART_IIR), 0xc1);
}

static void test_thre_not_cleared_by_lsr(void **state)
{
    FX;

    wr(f, UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(f, UART_LSR) & UART_LSR_TEMT, UART_LSR_TEMT);
    assert_int_equal(rd(f, UART_IIR), 0x02);
}

static void test_thre_after_transmit(void **state)
{
    FX;

    wr(f, UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(f, UART_IIR), 0x02);
    /* Each byte goes out at once: THR empties again and interrupts again. */
    wr(f, UART_THR, 'a');
    assert_int_equal(rd(f, UART_IIR), 0x02);
    wr(f, UART_THR, 'b');
    wr(f, UART_THR, 'c');
    assert_int_equal(rd(f, UART_IIR), 0x02);
    assert_int_equal(rd(f, UART_IIR), 0x01);

    /* A busy line: writing THR clears it until the FIFO drains. */
    wr(f, UART_FCR, UART_FCR_ENABLE);
    rd(f, UART_IIR);
    f->line_room = 0;
    wr(f, UART_THR, 'd');
    assert_int_equal(rd(f, UART_IIR), 0xc1);
    f->line_room = SIZE_MAX;
    uart16550_tx_kick(&f->u);
    assert_int_equal(rd(f, UART_IIR), 0xc2);
    assert_int_equal(f->out_len, 4);

    /* Enabling ETBEI while the FIFO still holds data does not interrupt. */
    wr(f, UART_IER, 0);
    f->line_room = 0;
    wr(f, UART_THR, 'e');
    wr(f, UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(f, UART_IIR), 0xc1);
    f->line_room = SIZE_MAX;
    uart16550_tx_kick(&f->u);
    assert_int_equal(rd(f, UART_IIR), 0xc2);
}

static void test_interrupt_priorities(void **state)
{
    FX;

    wr(f, UART_FCR, UART_FCR_ENABLE); /* trigger level 1 */
    wr(f, UART_MCR, UART_MCR_LOOP);   /* MSR deltas: modem status pending */
    for (int i = 0; i < 17; i++)      /* data and an overrun */
        wr(f, UART_THR, 'x');
    wr(f, UART_IER, 0x0f);            /* THRE armed too */

    assert_int_equal(rd(f, UART_IIR), 0xc6); /* line status first */
    rd(f, UART_LSR);
    assert_int_equal(rd(f, UART_IIR), 0xc4); /* then received data */
    for (int i = 0; i < 16; i++)
        rd(f, UART_RBR);
    assert_int_equal(rd(f, UART_IIR), 0xc2); /* then THR empty (acked by this read) */
    assert_int_equal(rd(f, UART_IIR), 0xc0); /* then modem status */
    rd(f, UART_MSR);
    assert_int_equal(rd(f, UART_IIR), 0xc1);
}

static void test_ier_gates_each_source(void **state)
{
    FX;

    rx(f, "a");
    uart16550_set_modem_lines(&f->u, 0);
    assert_int_equal(rd(f, UART_IIR), 0x01); /* nothing enabled */
    wr(f, UART_IER, UART_IER_EDSSI);
    assert_int_equal(rd(f, UART_IIR), 0x00);
    wr(f, UART_IER, UART_IER_ERBFI);
    assert_int_equal(rd(f, UART_IIR), 0x04);
    rd(f, UART_RBR);
    rx(f, "bc"); /* overrun in 16450 mode */
    assert_int_equal(rd(f, UART_IIR), 0x04);
    wr(f, UART_IER, UART_IER_ELSI);
    assert_int_equal(rd(f, UART_IIR), 0x06);
    rd(f, UART_LSR);
    assert_int_equal(rd(f, UART_IIR), 0x01);
}

static void test_irq_line_needs_out2(void **state)
{
    FX;

    wr(f, UART_IER, UART_IER_ERBFI);
    rx(f, "a");
    assert_int_equal(rd(f, UART_IIR), 0x04);
    assert_false(uart16550_irq_line(&f->u)); /* pending, but OUT2 is off */
    assert_int_equal(f->irq_calls, 0);
    wr(f, UART_MCR, UART_MCR_OUT2);
    assert_true(f->irq);
    assert_int_equal(f->irq_calls, 1);
    wr(f, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
    assert_int_equal(f->irq_calls, 1); /* no change, no report */
    wr(f, UART_MCR, 0);
    assert_false(f->irq);
    wr(f, UART_MCR, UART_MCR_OUT2);
    assert_true(f->irq);
    rd(f, UART_RBR);
    assert_false(f->irq);
    assert_int_equal(f->irq_calls, 4);
    /* With OUT2 on and nothing pending the line stays low. */
    wr(f, UART_IER, 0);
    assert_false(uart16550_irq_line(&f->u));
}

static void test_irq_line_follows_thre(void **state)
{
    FX;

    wr(f, UART_MCR, UART_MCR_OUT2);
    wr(f, UART_IER, UART_IER_ETBEI);
    assert_true(f->irq);
    rd(f, UART_IIR);
    assert_false(f->irq);
    /* Writing THR and the byte leaving at once: one rising edge. */
    wr(f, UART_THR, 'a');
    assert_true(f->irq);
    assert_int_equal(f->irq_calls, 3);
    /* Writing more while it is high does not toggle it. */
    wr(f, UART_THR, 'b');
    wr(f, UART_THR, 'c');
    assert_int_equal(f->irq_calls, 3);
    wr(f, UART_IER, 0);
    assert_false(f->irq);
}

static void test_reset_lowers_line(void **state)
{
    FX;

    wr(f, UART_MCR, UART_MCR_OUT2);
    wr(f, UART_IER, UART_IER_ETBEI);
    wr(f, UART_SCR, 0x42);
    assert_true(f->irq);
    uart16550_reset(&f->u);
    assert_false(f->irq);
    assert_int_equal(rd(f, UART_SCR), 0);
    assert_int_equal(rd(f, UART_IER), 0);
    assert_int_equal(rd(f, UART_LSR), 0x60);
    wr(f, UART_THR, 'r'); /* still wired to the line */
    assert_int_equal(f->out_len, 1);
}

/* ---- ioreq-shaped adapters ------------------------------------------------------------- */

static void test_io_adapters(void **state)
{
    FX;

    uart16550_io_write(&f->u, UART_SCR, 1, 0xa5);
    assert_int_equal(uart16550_io_read(&f->u, UART_SCR, 1), 0xa5);
    /* A word access touches two registers, low byte first. */
    uart16550_io_write(&f->u, UART_LCR, 2, 0x0b03);
    assert_int_equal(rd(f, UART_LCR), 0x03);
    assert_int_equal(rd(f, UART_MCR), 0x0b);
    assert_int_equal(uart16550_io_read(&f->u, UART_LCR, 2), 0x0b03);
    /* Beyond the eight registers: all ones, writes dropped. */
    assert_int_equal(uart16550_io_read(&f->u, UART_SCR, 2), 0xffa5);
    uart16550_io_write(&f->u, UART_SCR, 2, 0x1234);
    assert_int_equal(rd(f, UART_SCR), 0x34);
    assert_int_equal(uart16550_io_read(&f->u, 6, 4), 0xffff34b0);
    assert_int_equal(uart16550_io_read(&f->u, 0, 8) >> 56, 0x34);
    /* A byte write to THR sends it. */
    uart16550_io_write(&f->u, UART_THR, 1, 'w');
    assert_int_equal(f->out_len, 1);
    assert_int_equal(f->out[0], 'w');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
        T(test_power_on_values),
        T(test_scratch_register),
        T(test_ier_keeps_low_nibble),
        T(test_lcr_and_mcr_read_back),
        T(test_lsr_msr_writes_ignored),
        T(test_divisor_latch),
        T(test_transmit_goes_to_line),
        T(test_busy_line_fills_tx_fifo),
        T(test_busy_line_16450_mode_holds_one),
        T(test_fcr_clear_tx),
        cmocka_unit_test(test_no_tx_callback_discards),
        T(test_receive_16450_mode),
        T(test_overrun_16450_mode_replaces),
        T(test_rx_fifo_fill_and_overflow),
        T(test_rbr_when_empty_repeats_last),
        T(test_rx_trigger_levels_and_timeout),
        T(test_fcr_clear_rx_and_mode_switch),
        T(test_loopback_echo),
        T(test_loopback_msr_mapping),
        T(test_msr_delta_bits),
        T(test_modem_lines_from_far_end),
        T(test_thre_interrupt_reasserts),
        T(test_thre_not_cleared_by_lsr),
        T(test_thre_after_transmit),
        T(test_interrupt_priorities),
        T(test_ier_gates_each_source),
        T(test_irq_line_needs_out2),
        T(test_irq_line_follows_thre),
        T(test_reset_lowers_line),
        T(test_io_adapters),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
