#include "payload.hpp"

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

std::string make_xml(const std::string& tmpl, std::size_t size) {
  std::string xml = tmpl;
  auto pos = xml.find("</Anliegen>");
  if (pos == std::string::npos) pos = xml.find(":Anliegen>", xml.find("<") + 1);
  if (xml.size() < size && pos != std::string::npos) {
    std::string pad;
    const std::string words = "Bitte um Bearbeitung meines Antrags. ";
    while (pad.size() + xml.size() < size) pad += words;
    pad.resize(size - xml.size());
    xml.insert(pos, pad);
  }
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
