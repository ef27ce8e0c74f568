#include "ingress/settlement.hpp"

#include <proton/condition.h>
#include <proton/delivery.h>
#include <proton/disposition.h>

#include <string>

namespace ozghub::ingress {
namespace {

// Proton C++ cannot reject with an error condition; the C API can. This reaches the
// pn_delivery_t through the protected accessor, the legal way (a member pointer taken through a
// derived class).
struct DeliveryAccess : proton::delivery {
  static pn_delivery_t* raw(const proton::delivery& d) {
    using Base = proton::internal::object<pn_delivery_t>;
    pn_delivery_t* (Base::*get)() const = &DeliveryAccess::pn_object;
    const Base& base = d;
    return (base.*get)();
  }
};

}  // namespace

void settle_rejected(proton::delivery& d, const Rejection& r) {
  pn_delivery_t* pd = DeliveryAccess::raw(d);
  pn_condition_t* cond = pn_disposition_condition(pn_delivery_local(pd));
  std::string name(condition_symbol(r.condition));
  pn_condition_set_name(cond, name.c_str());
  pn_condition_set_description(cond, r.description.c_str());
  pn_delivery_update(pd, PN_REJECTED);
  d.settle();
}

void settle_failed(proton::delivery& d) {
  pn_delivery_t* pd = DeliveryAccess::raw(d);
  pn_disposition_t* local = pn_delivery_local(pd);
  pn_disposition_set_failed(local, true);
  pn_disposition_set_undeliverable(local, false);
  pn_delivery_update(pd, PN_MODIFIED);
  d.settle();
}

}  // namespace ozghub::ingress
