// A plugin for the host's unit tests, built with the SDK exactly as a vendor would. What
// deliver() does is chosen by the application XML, so each test drives one behaviour.
#include <fstream>
#include <stdexcept>

#include "ozghub/adapter_sdk.hpp"

namespace {

using namespace ozghub::sdk;

struct EchoChannel final : Channel {
  std::string office_id;
  std::string dir;
};

class EchoAdapter final : public Adapter {
 public:
  EchoAdapter(std::string label, Host host) : label_(std::move(label)), host_(host) {}

  Bound bind(const Office& office, const ParamSet& params) override {
    if (params.get("mode") == "refuse") return Bound::refuse("mode 'refuse' refuses every channel");
    auto ch = std::make_unique<EchoChannel>();
    ch->office_id = std::string(office.id);
    ch->dir = std::string(params.get("dir"));
    return Bound::ok(std::move(ch));
  }

  Result deliver(const Delivery& d, const Channel* channel) override {
    const auto* ch = static_cast<const EchoChannel*>(channel);
    std::string_view xml = d.xml();
    if (xml == "<throw/>") throw std::runtime_error("Erika Mustermann, Hauptstr. 1");
    if (xml == "<retry/>") return Result::retry_later("busy", 1500);
    if (xml == "<reject/>") return Result::rejected("not acceptable");
    if (xml == "<encrypt/>") {
      Encrypted e = d.encrypt_for_office(xml);
      if (e.no_certificate) return Result::rejected("no certificate");
      if (!e.ok) return Result::retry_later(e.error);
      std::ofstream out(ch->dir + "/" + std::string(d.case_number()) + ".p7m", std::ios::binary);
      out.write(e.data.data(), static_cast<std::streamsize>(e.data.size()));
      return out ? Result::delivered() : Result::retry_later("cannot write");
    }
    if (xml == "<echo/>") {
      std::size_t bytes = 0;
      std::string names;
      for (const Attachment& a : d.attachments()) {
        bytes += a.data.size();
        names += std::string(a.name) + "(" + std::string(a.content_type) + ")";
      }
      std::string text =
          "case=" + std::string(d.case_number()) + " msg=" + std::string(d.message_id()) +
          " area=" + std::string(d.area_id()) + " service=" + std::string(d.service_id()) +
          " office=" + std::string(d.office_id()) + " channel_office=" + ch->office_id +
          " received=" + std::to_string(d.received_at_ms()) +
          " attempt=" + std::to_string(d.attempt()) + " atts=" + names +
          " bytes=" + std::to_string(bytes) + " label=" + label_ +
          " verbose=" + std::string(d.params().get("verbose")) +
          " cert=" + (d.has_certificate() ? "yes" : "no");
      return Result::rejected(text);
    }
    host_.info("test.delivered", "case " + std::string(d.case_number()));
    return Result::delivered();
  }

 private:
  std::string label_;
  Host host_;
};

struct EchoType {
  static constexpr const char* kName = "test_echo";
  static constexpr const char* kDescription = "test adapter driven by the application XML";
  static std::vector<Param> params() {
    return {
        {"label", Param::Kind::kString, Param::Scope::kInstance, true, "", {}, 0, 0, "a label"},
        {"port", Param::Kind::kInt, Param::Scope::kInstance, false, "5", {}, 1, 10, "a port"},
        {"verbose", Param::Kind::kBool, Param::Scope::kEither, false, "false", {}, 0, 0, "v"},
        {"mode",
         Param::Kind::kChoice,
         Param::Scope::kChannel,
         false,
         "normal",
         {"normal", "refuse"},
         0,
         0,
         "channel mode"},
        {"dir", Param::Kind::kPath, Param::Scope::kEither, false, "", {}, 0, 0, "out dir"},
    };
  }
  static std::unique_ptr<Adapter> create(const ParamSet& params, const Host& host,
                                         std::string& error) {
    if (params.get("label") == "throw") throw std::runtime_error("boom");
    if (params.get("label") == "fail") {
      error = "label 'fail' is refused";
      return nullptr;
    }
    return std::make_unique<EchoAdapter>(std::string(params.get("label")), host);
  }
};

}  // namespace

OZGHUB_ADAPTER("test_plugin", "0.0.1", EchoType)
