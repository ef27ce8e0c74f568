#include "payload.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace loadgen {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(2);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

// The schema (ozg-antrag-1.0.xsd) allows <Anliegen> 10,000 characters and <Anlagen> 100 <Anlage>
// entries with a <Beschreibung> of up to 500 characters: room for about 70 KB of valid XML.
constexpr std::size_t kAnliegenMax = 10000;
constexpr std::size_t kAnlagenMax = 100;
constexpr std::size_t kBeschreibungMax = 500;

std::string words(std::size_t n) {
  const std::string phrase = "Bitte um Bearbeitung meines Antrags. ";
  std::string out;
  while (out.size() < n) out += phrase;
  out.resize(n);
  return out;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + 1)) ++n;
  return n;
}

std::string anlage(std::size_t i, std::size_t beschreibung) {
  return "<Anlage><Dateiname>Nachweis-" + std::to_string(i) +
         ".pdf</Dateiname><MimeType>application/pdf</MimeType><Beschreibung>" +
         words(beschreibung) + "</Beschreibung></Anlage>\n";
}

}  // namespace

std::string make_xml(const std::string& tmpl, std::size_t size) {
  std::string xml = tmpl;
  auto end = xml.find("</Anliegen>");
  if (end == std::string::npos) end = xml.find(":Anliegen>", xml.find("<") + 1);
  if (xml.size() >= size || end == std::string::npos) return xml;
  std::size_t need = size - xml.size();
  auto begin = xml.rfind('>', end);
  std::size_t room = kAnliegenMax - std::min(kAnliegenMax, end - begin - 1);  // bytes >= chars
  // Beyond what <Anliegen> holds: more <Anlage> entries, each as long as the schema allows.
  auto anlagen = xml.find("</Anlagen>");
  if (need > room && anlagen != std::string::npos) {
    std::string more;
    for (std::size_t i = count(xml, "<Anlage>"); i < kAnlagenMax && need > room; ++i) {
      std::string entry = anlage(i + 1, kBeschreibungMax);
      need -= std::min(need, entry.size());
      more += entry;
    }
    xml.insert(anlagen, more);
  }
  if (need > room)
    std::cerr << "warning: " << size << " bytes of XML exceed what the schema allows\n";
  xml.insert(end, words(need));
  return xml;
}

std::string pad_pdf(std::string pdf, std::size_t size) {
  const std::string tail = "\n%%EOF\n";
  if (pdf.size() + tail.size() >= size) return pdf;
  const std::string line = "\n%" + std::string(78, 'x');
  std::size_t room = size - pdf.size() - tail.size();
  while (room >= line.size()) {
    pdf += line;
    room -= line.size();
  }
  if (room > 0) pdf += (room == 1 ? std::string("\n") : "\n%" + std::string(room - 2, 'x'));
  return pdf + tail;
}

}  // namespace loadgen
