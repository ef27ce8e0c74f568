// Outcomes the hub settles an incoming delivery with, beyond what Proton C++ offers: `rejected`
// with an error condition (the `ozg:` condition and its description) and `modified` with
// delivery-failed (the broker of a connector redelivers it later). Used by the listener and the
// broker connectors alike.
//
// Event loop thread only (the delivery's connection's).
#pragma once

#include <proton/delivery.hpp>

#include "common/condition.hpp"

namespace ozghub::ingress {

// Settles `d` as rejected with the rejection's condition symbol and description.
void settle_rejected(proton::delivery& d, const Rejection& r);

// Settles `d` as modified (delivery-failed, not undeliverable here): the broker keeps the
// message and delivers it again, to this hub or another one.
void settle_failed(proton::delivery& d);

}  // namespace ozghub::ingress
