// What the load generator sends: an application XML of a given size and an optional attachment,
// both built deterministically so that every run and every server gets the same bytes.
#pragma once

#include <cstddef>
#include <string>

namespace loadgen {

// The whole file, or exits with a message when it cannot be read.
std::string read_file(const std::string& path);

// The template with its <Anliegen> text padded so the document has about `size` bytes; it stays
// valid against the schema the template is valid against.
std::string make_xml(const std::string& tmpl, std::size_t size);

// A PDF padded to exactly `size` bytes (unchanged when it is already as large): PDF comment lines
// after its end, then a final %%EOF, so readers that look for %%EOF near the end still find one.
std::string pad_pdf(std::string pdf, std::size_t size);

}  // namespace loadgen
