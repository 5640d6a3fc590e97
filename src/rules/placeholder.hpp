// What every rule's match is checked against before it is reported: a value that is not a
// credential but a stand-in for one. Configuration files, templates, CI definitions and code
// name a secret without holding it: a variable reference (${DB_PASSWORD}, $TOKEN, %API_KEY%,
// {{ .Values.password }}, env.SECRET, os.environ["X"], process.env.X), a placeholder
// (<your-api-key>, xxxxxxxx, ****, changeme), or an AWS ARN (arn:aws:secretsmanager:...:secret:
// NAME names a secret and is public). Shared by all rules, so no rule file repeats it.
#pragma once

#include <cstddef>
#include <string_view>

namespace dumpguard::rules {

// Whether subject[begin, end), the secret a rule captured, is a reference or placeholder.
// The text before it (back to the start of its whitespace-delimited word) is read for ARNs.
bool placeholder_or_reference(std::string_view subject, std::size_t begin, std::size_t end);

}  // namespace dumpguard::rules
