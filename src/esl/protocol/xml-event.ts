// Reads `<event><headers><Name>value</Name>…</headers><body>…</body></event>` (trace rule 6). FreeSWITCH
// URL-encodes each value and then XML-escapes it, so we undo both, in reverse order. A full XML parser
// would be overkill: the shape is fixed and flat.
import { EslProtocolError } from '../../core/errors.ts';
import { decodeValue } from './decode.ts';
import { EslHeaders } from './headers.ts';

const ELEMENT = /<([A-Za-z_][\w.:-]*)>([^<]*)<\/\1>|<([A-Za-z_][\w.:-]*)\/>/g;

export function parseXmlEvent(text: string): { headers: EslHeaders; body: string | undefined } {
  const open = text.indexOf('<headers>');
  const close = text.indexOf('</headers>');
  if (open === -1 || close === -1 || close < open) throw new EslProtocolError('ESL xml event without <headers>');
  const headers = new EslHeaders();
  ELEMENT.lastIndex = open + '<headers>'.length;
  const section = text.slice(0, close);
  for (let m = ELEMENT.exec(section); m !== null; m = ELEMENT.exec(section)) {
    if (m[1] !== undefined) headers.add(m[1], decodeValue(unescapeXml(m[2] ?? '')));
    else if (m[3] !== undefined) headers.add(m[3], '');
  }
  let body: string | undefined;
  const bodyOpen = text.indexOf('<body>', close);
  if (bodyOpen !== -1) {
    const bodyClose = text.lastIndexOf('</body>');
    if (bodyClose > bodyOpen) body = unescapeXml(text.slice(bodyOpen + '<body>'.length, bodyClose));
  }
  return { headers, body };
}

function unescapeXml(s: string): string {
  if (s.indexOf('&') === -1) return s;
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9A-Fa-f]+);/g, (_, e: string) => {
    switch (e) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}
