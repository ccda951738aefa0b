// URL-decoding of ESL header values. FreeSWITCH percent-encodes plain-event values and the outbound
// connect reply (`Reply-Text: %2BOK%0A`), byte by byte as UTF-8. A value that is not valid percent-encoding
// (a literal `%` in a reply text, a cut multibyte sequence) must not throw and drop the whole message, so
// the fallback decodes each valid run and leaves the rest as sent.

const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

export function decodeValue(value: string): string {
  if (value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value.replace(PERCENT_RUN, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}
