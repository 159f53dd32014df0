/* The guest image's C entry: run the embedded op table. */
#include <stdint.h>

#include "gio_interp.h"

extern const uint8_t gio_table[], gio_table_end[];

void gio_main(void);

void gio_main(void)
{
    gio_run(gio_table, (size_t)(gio_table_end - gio_table));
}
