// The client side of the hub's SASL implementation (sasl_server.hpp replaces Proton's default
// for every transport, so the outgoing connections of broker connectors need it too).
//
// The mechanisms the broker offers arrive filtered by the connection's allowed mechanisms, which
// a connector sets to exactly one: EXTERNAL (the TLS client certificate), PLAIN (the user and
// password of the connection options; only over TLS) or ANONYMOUS.
//
// Thread-safety: the callbacks run on the AMQP event loop thread only.
#pragma once

#include <proton/types.h>

namespace ozghub::ingress {

// pnx_sasl_implementation::init_client.
bool sasl_client_init(pn_transport_t* transport);

// pnx_sasl_implementation::process_mechanisms: chooses a mechanism and posts its initial
// response; false when none of the offered ones can be used (the connection then fails).
bool sasl_client_mechanisms(pn_transport_t* transport, const char* offered);

}  // namespace ozghub::ingress
