// The CMS output is checked with the real `openssl` command line, the tool an office uses.
#include "crypto/cms.hpp"

#include <gmock/gmock.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crypto/cms_layout.hpp"
#include "crypto/content_key.hpp"
#include "crypto/openssl_cli.hpp"
#include "test_support.hpp"

namespace ozghub::crypto {
namespace {

using ozghub::testing::demo_cert;
using ozghub::testing::demo_key;
using ozghub::testing::openssl_decrypt;
using ozghub::testing::read_file;
using ozghub::testing::TempDir;
using ozghub::testing::unwrap_content_key;
using ozghub::testing::write_file;

int run(const std::string& command, const std::filesystem::path& log) {
  return ozghub::testing::run_command(command, log);
}

std::shared_ptr<const Recipient> load_demo_recipient() {
  auto r = Recipient::from_pem_file(demo_cert().string());
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? *r : nullptr;
}

// Encrypts, decrypts with `openssl cms -decrypt` and returns what openssl produced.
std::string round_trip_through_openssl(std::string_view plaintext, const TempDir& dir) {
  auto recipient = load_demo_recipient();
  if (!recipient) return "<no recipient>";
  auto der = encrypt(plaintext, *recipient);
  EXPECT_TRUE(der.is_ok()) << der.status().message();
  if (!der.is_ok()) return "<encrypt failed>";
  const auto in = dir.path() / "in.p7m";
  const auto out = dir.path() / "out.bin";
  write_file(in, *der);
  EXPECT_EQ(openssl_decrypt(in, out), "");
  return read_file(out);
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

// `threads` threads each encrypt `data` `rounds` times with `encrypt_one` at once; the last
// result of each thread must decrypt with the real tool.
template <typename Encrypt>
void expect_concurrent_encryptions_decrypt(std::size_t threads, int rounds, const std::string& data,
                                           Encrypt encrypt_one) {
  TempDir dir;
  std::vector<std::string> outputs(threads);
  std::vector<std::thread> running;
  for (std::size_t t = 0; t < outputs.size(); ++t) {
    running.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        auto der = encrypt_one(data);
        if (!der.is_ok()) return;
        outputs[t] = std::move(*der);
      }
    });
  }
  for (auto& th : running) th.join();
  for (std::size_t t = 0; t < outputs.size(); ++t) {
    ASSERT_FALSE(outputs[t].empty()) << "thread " << t;
    const auto in = dir.path() / ("t" + std::to_string(t) + ".p7m");
    const auto out = dir.path() / ("t" + std::to_string(t) + ".out");
    write_file(in, outputs[t]);
    ASSERT_EQ(openssl_decrypt(in, out), "") << "thread " << t;
    EXPECT_TRUE(read_file(out) == data) << "thread " << t;
  }
}

TEST(CmsEncrypt, EmptyInputDecryptsWithOpensslCli) {
  TempDir dir;
  EXPECT_EQ(round_trip_through_openssl("", dir), "");
}

TEST(CmsEncrypt, SmallXmlDecryptsWithOpensslCli) {
  TempDir dir;
  // CRLF and a lone LF must survive unchanged: no S/MIME text canonicalisation.
  const std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<antrag><name>Müller</name>\n"
      "<ort>Möckern</ort></antrag>\n";
  EXPECT_EQ(round_trip_through_openssl(xml, dir), xml);
}

TEST(CmsEncrypt, OneMebibyteBinaryDecryptsWithOpensslCli) {
  TempDir dir;
  const std::string data = random_bytes(1 << 20, 42);
  const std::string decrypted = round_trip_through_openssl(data, dir);
  ASSERT_EQ(decrypted.size(), data.size());
  EXPECT_TRUE(decrypted == data);
}

TEST(CmsEncrypt, UsesAes256GcmAndRsaOaepWithSha256) {
  TempDir dir;
  auto recipient = load_demo_recipient();
  ASSERT_TRUE(recipient);
  auto der = encrypt("<a/>", *recipient);
  ASSERT_OK(der);
  write_file(dir.path() / "m.p7m", *der);
  const auto log = dir.path() / "print.txt";
  ASSERT_EQ(
      run("openssl cms -cmsout -print -inform DER -in " + (dir.path() / "m.p7m").string(), log), 0);
  const std::string printed = read_file(log);
  EXPECT_NE(printed.find("id-smime-ct-authEnvelopedData"), std::string::npos) << printed;
  EXPECT_NE(printed.find("algorithm: aes-256-gcm"), std::string::npos) << printed;
  EXPECT_NE(printed.find("algorithm: rsaesOaep"), std::string::npos) << printed;
  // OAEP hash and MGF1 hash are both SHA-256, not the SHA-1 default (which would be absent).
  EXPECT_NE(printed.find(":sha256"), std::string::npos) << printed;
  EXPECT_NE(printed.find(":mgf1"), std::string::npos) << printed;
}

TEST(CmsEncrypt, EachEncryptionUsesAFreshKey) {
  auto recipient = load_demo_recipient();
  ASSERT_TRUE(recipient);
  auto a = encrypt("same", *recipient);
  auto b = encrypt("same", *recipient);
  ASSERT_OK(a);
  ASSERT_OK(b);
  EXPECT_NE(*a, *b);
}

TEST(CmsEncrypt, SharedRecipientFromManyThreads) {
  auto recipient = load_demo_recipient();
  ASSERT_TRUE(recipient);
  expect_concurrent_encryptions_decrypt(8, 50, random_bytes(8192, 7), [&](std::string_view data) {
    return encrypt(data, *recipient);
  });
}

TEST(CmsEnvelope, FilesOfOneEnvelopeEachDecryptOnTheirOwn) {
  TempDir dir;
  auto recipient = load_demo_recipient();
  ASSERT_TRUE(recipient);
  auto envelope = Envelope::create(*recipient);
  ASSERT_OK(envelope);
  const std::vector<std::string> files = {"<antrag>Müller</antrag>", random_bytes(70000, 3), ""};
  std::vector<std::string> sealed;
  for (std::size_t i = 0; i < files.size(); ++i) {
    auto der = envelope->seal(files[i]);
    ASSERT_OK(der);
    sealed.push_back(*der);
    const auto in = dir.path() / ("f" + std::to_string(i) + ".p7m");
    const auto out = dir.path() / ("f" + std::to_string(i) + ".out");
    write_file(in, *der);
    ASSERT_EQ(openssl_decrypt(in, out), "") << "file " << i;
    EXPECT_TRUE(read_file(out) == files[i]) << "file " << i;
  }
  // The same plaintext twice under one key: a fresh nonce each time, so different bytes.
  auto again = envelope->seal(files[0]);
  ASSERT_OK(again);
  EXPECT_EQ(again->size(), sealed[0].size());
  EXPECT_NE(*again, sealed[0]);
}

TEST(CmsEnvelope, LaysOutEveryByteAsOpensslsCmsApiDoes) {
  auto recipient = load_demo_recipient();
  ASSERT_TRUE(recipient);
  for (const std::size_t size : {std::size_t{0}, std::size_t{100}, std::size_t{70000}}) {
    const std::string data = random_bytes(size, 9);
    auto ours = encrypt(data, *recipient);
    auto theirs = detail::encrypt_with_cms_api(data, *recipient);
    ASSERT_OK(ours);
    ASSERT_OK(theirs);
    ASSERT_EQ(ours->size(), theirs->size()) << size;
    auto a = learn_cms_layout(*ours, 384);
    auto b = learn_cms_layout(*theirs, 384);
    ASSERT_OK(a);
    ASSERT_OK(b);
    EXPECT_EQ(a->content_type, b->content_type);
    EXPECT_EQ(a->version, b->version);
    EXPECT_EQ(a->encrypted_content_type, b->encrypted_content_type);
    EXPECT_EQ(a->content_tag, b->content_tag);
    EXPECT_EQ(a->wrapped_key_offset, b->wrapped_key_offset);
    EXPECT_EQ(a->nonce_offset, b->nonce_offset);
    // Apart from the wrapped key and the nonce, the recipient and algorithm parts are equal.
    std::string ri_a = a->recipient_infos, ri_b = b->recipient_infos;
    ri_a.replace(a->wrapped_key_offset, 384, 384, '\0');
    ri_b.replace(b->wrapped_key_offset, 384, 384, '\0');
    EXPECT_EQ(ri_a, ri_b);
    std::string alg_a = a->content_algorithm, alg_b = b->content_algorithm;
    alg_a.replace(a->nonce_offset, kNonceBytes, kNonceBytes, '\0');
    alg_b.replace(b->nonce_offset, kNonceBytes, kNonceBytes, '\0');
    EXPECT_EQ(alg_a, alg_b);
  }
}

TEST(CmsEnvelope, OneKeyPerEnvelope) {
  auto recipient = load_demo_recipient();
  ASSERT_TRUE(recipient);
  auto a = Envelope::create(*recipient);
  auto b = Envelope::create(*recipient);
  ASSERT_OK(a);
  ASSERT_OK(b);
  auto a1 = a->seal("one");
  auto a2 = a->seal("two");
  auto b1 = b->seal("one");
  auto c1 = encrypt("one", *recipient);
  ASSERT_OK(a1);
  ASSERT_OK(a2);
  ASSERT_OK(b1);
  ASSERT_OK(c1);
  // Unwrapped with the office's private key: the same key within an envelope, a fresh one for
  // each envelope (a key cached per recipient would fail here; OAEP's randomness hides that
  // from a comparison of the wrapped bytes).
  const std::string key_a1 = unwrap_content_key(*a1);
  ASSERT_EQ(key_a1.size(), kKeyBytes);
  EXPECT_EQ(unwrap_content_key(*a2), key_a1);
  EXPECT_NE(unwrap_content_key(*b1), key_a1);
  EXPECT_NE(unwrap_content_key(*c1), key_a1);
  EXPECT_NE(unwrap_content_key(*c1), unwrap_content_key(*b1));
}

TEST(CmsEnvelope, SharedEnvelopeFromManyThreads) {
  auto recipient = load_demo_recipient();
  ASSERT_TRUE(recipient);
  auto envelope = Envelope::create(*recipient);
  ASSERT_OK(envelope);
  expect_concurrent_encryptions_decrypt(
      6, 30, random_bytes(4096, 11), [&](std::string_view data) { return envelope->seal(data); });
}

TEST(CmsEncrypt, SeventeenMebibytesUseFourLengthOctetsAndDecrypt) {
  // Beyond 16 MiB the DER lengths take four octets (attachments reach 64 MiB).
  TempDir dir;
  const std::string data = random_bytes((17u << 20) + 3, 5);
  const std::string decrypted = round_trip_through_openssl(data, dir);
  ASSERT_EQ(decrypted.size(), data.size());
  EXPECT_TRUE(decrypted == data);
}

TEST(CmsLayout, RefusesAnAlgorithmOtherThanTheOnesPromised) {
  auto recipient = load_demo_recipient();
  ASSERT_TRUE(recipient);
  auto der = detail::encrypt_with_cms_api("x", *recipient);
  ASSERT_OK(der);
  ASSERT_OK(learn_cms_layout(*der, 384));
  // The error `learn_cms_layout` gives once the last arc of the first `oid` in the sample is
  // changed to `last_arc` (another algorithm of the same encoded length).
  const auto refusal = [&der](const std::string& oid, char last_arc) -> std::string {
    std::string changed = *der;
    const auto at = changed.find(oid);
    if (at == std::string::npos) return "oid not in the sample";
    changed[at + oid.size() - 1] = last_arc;
    auto layout = learn_cms_layout(changed, 384);
    return layout.is_ok() ? "accepted" : layout.status().message();
  };
  // aes256-GCM is 2.16.840.1.101.3.4.1.46; .42 is aes256-CBC.
  EXPECT_THAT(refusal(std::string("\x06\x09\x60\x86\x48\x01\x65\x03\x04\x01\x2e", 11), 0x2a),
              ::testing::HasSubstr("content encryption algorithm"));
  // SHA-256 (2.16.840.1.101.3.4.2.1) in the OAEP parameters; .2 is SHA-384.
  EXPECT_THAT(refusal(std::string("\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01", 11), 0x02),
              ::testing::HasSubstr("key transport algorithm"));
}

TEST(CmsEnvelope, AlteredCiphertextOrTagIsRefusedByOpenssl) {
  TempDir dir;
  auto recipient = load_demo_recipient();
  ASSERT_TRUE(recipient);
  const std::string plaintext(1000, 'a');
  auto der = encrypt(plaintext, *recipient);
  ASSERT_OK(der);
  // The tag is the last 16 bytes; the ciphertext the 1000 before them.
  for (const std::size_t from_end : {std::size_t{1}, std::size_t{16 + 2 + 500}}) {
    std::string altered = *der;
    altered[altered.size() - from_end] ^= 0x01;
    const auto in = dir.path() / ("a" + std::to_string(from_end) + ".p7m");
    write_file(in, altered);
    EXPECT_NE(openssl_decrypt(in, dir.path() / "a.out"), "") << "byte " << from_end << " from end";
  }
}

TEST(Recipient, LoadsDemoCertificate) {
  auto recipient = load_demo_recipient();
  ASSERT_TRUE(recipient);
  EXPECT_EQ(recipient->subject(), "CN=moeckern-buergeramt (DEMO ONLY),O=ozg-hub demo,C=DE");
  // notAfter=Nov 20 11:53:34 2036 GMT
  EXPECT_EQ(recipient->not_after_unix(), 2110794814);
}

TEST(Recipient, FromPemMatchesFromPemFile) {
  auto r = Recipient::from_pem(read_file(demo_cert()));
  ASSERT_OK(r);
  EXPECT_EQ((*r)->subject(), load_demo_recipient()->subject());
}

TEST(Recipient, KeepsUtf8InSubject) {
  TempDir dir;
  const auto cert = dir.path() / "c.pem";
  ASSERT_EQ(run("openssl req -x509 -newkey rsa:2048 -nodes -utf8 -days 1 -keyout " +
                    (dir.path() / "k.pem").string() + " -out " + cert.string() +
                    " -subj '/CN=Stadt Möckern'",
                dir.path() / "log"),
            0)
      << read_file(dir.path() / "log");
  auto r = Recipient::from_pem_file(cert.string());
  ASSERT_OK(r);
  EXPECT_EQ((*r)->subject(), "CN=Stadt Möckern");
}

TEST(Recipient, MissingFileIsNamed) {
  auto r = Recipient::from_pem_file("/nonexistent/office.pem");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIoError);
  EXPECT_NE(r.status().message().find("/nonexistent/office.pem"), std::string::npos);
  EXPECT_NE(r.status().message().find("unreadable"), std::string::npos);
  EXPECT_NE(r.status().message().find("No such file or directory"), std::string::npos);
}

TEST(Recipient, DirectoryIsUnreadable) {
  TempDir dir;
  auto r = Recipient::from_pem_file(dir.path().string());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("Is a directory"), std::string::npos) << r.status().message();
}

TEST(Recipient, GarbagePemIsNotACertificate) {
  TempDir dir;
  const auto path = dir.path() / "garbage.pem";
  write_file(path, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
  auto r = Recipient::from_pem_file(path.string());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find(path.string()), std::string::npos);
  EXPECT_NE(r.status().message().find("not a PEM certificate"), std::string::npos);

  auto empty = Recipient::from_pem("");
  ASSERT_FALSE(empty.is_ok());
  EXPECT_NE(empty.status().message().find("not a PEM certificate"), std::string::npos);

  // A private key is PEM, but not a certificate.
  auto key = Recipient::from_pem_file(demo_key().string());
  ASSERT_FALSE(key.is_ok());
  EXPECT_NE(key.status().message().find("not a PEM certificate"), std::string::npos);
}

TEST(Recipient, EcCertificateIsRejected) {
  TempDir dir;
  const auto cert = dir.path() / "ec.pem";
  ASSERT_EQ(run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
                "-subj /CN=ec -keyout " +
                    (dir.path() / "ec.key").string() + " -out " + cert.string(),
                dir.path() / "log"),
            0)
      << read_file(dir.path() / "log");
  auto r = Recipient::from_pem_file(cert.string());
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find(cert.string()), std::string::npos);
  EXPECT_NE(r.status().message().find("not an RSA key"), std::string::npos) << r.status().message();
}

TEST(Recipient, Rsa1024CertificateIsTooSmall) {
  TempDir dir;
  const auto cert = dir.path() / "small.pem";
  ASSERT_EQ(run("openssl req -x509 -newkey rsa:1024 -nodes -days 1 -subj /CN=small -keyout " +
                    (dir.path() / "small.key").string() + " -out " + cert.string(),
                dir.path() / "log"),
            0)
      << read_file(dir.path() / "log");
  auto r = Recipient::from_pem_file(cert.string());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find(cert.string()), std::string::npos);
  EXPECT_NE(r.status().message().find("1024 bits"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("2048"), std::string::npos);
}

TEST(CryptoSha256, KnownVectors) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace ozghub::crypto
