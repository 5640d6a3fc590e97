// Holds credentials as text, the way services do, until its standard input closes: its
// environment (set by the test), a copy of one variable as UTF-16LE in a std::u16string (as a
// Windows-style or Java/Qt program keeps strings), and an HTTP request line in a heap buffer.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

int main() {
  const char* wide = std::getenv("DG_WIDE_SECRET");
  const char* bearer = std::getenv("API_TOKEN");
  if (!wide || !bearer) return 2;
  std::u16string u16;
  for (const char* p = wide; *p; ++p) u16.push_back(static_cast<char16_t>(static_cast<unsigned char>(*p)));
  auto request = std::make_unique<std::string>(std::string("GET /v1/items HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer ") +
                                               bearer + "\r\n\r\n");
  std::printf("ready %zu %zu\n", u16.size(), request->size());
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  // Keep both alive until here.
  return static_cast<int>(u16.size() + request->size()) == -1;
}
