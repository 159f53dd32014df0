/* <xen/io/xs_wire.h> needs uint32_t, and errno values for xsd_errors[]. */
#ifndef XSIM_WIRE_INC_H
#define XSIM_WIRE_INC_H

#include <errno.h>
#include <stdint.h>
#include <xen/io/xs_wire.h>

#endif
