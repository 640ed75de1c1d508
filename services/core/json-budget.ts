/**
 * Text kept within a byte budget as it is sent: the size of its JSON string (UTF-8, without the quotes), where a
 * control character costs six bytes (`\u0001`), a quote or a backslash two, a lone surrogate six. A receiver's 4 KiB
 * of control bytes is 24 KiB of JSON; counted this way it is cut to what fits, never more.
 */

/** Bytes a code point takes inside a JSON string as JSON.stringify writes it. */
function jsonBytes(code: number): number {
  if (code === 0x22 || code === 0x5c) return 2;
  if (code < 0x20) return code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  // A lone surrogate is written escaped (\udXXX); a pair arrives here as one code point above 0xffff.
  if (code >= 0xd800 && code <= 0xdfff) return 6;
  return code < 0x10000 ? 3 : 4;
}

/** The size of `text` as the content of a JSON string, in UTF-8 bytes. */
export function jsonStringBytes(text: string): number {
  let size = 0;
  for (const char of text) size += jsonBytes(char.codePointAt(0)!);
  return size;
}

/** The longest start of `text` whose JSON string content fits `budget` bytes (never half a surrogate pair). */
export function withinJsonBytes(text: string, budget: number): string {
  let size = 0;
  let end = 0;
  for (const char of text) {
    size += jsonBytes(char.codePointAt(0)!);
    if (size > budget) return text.slice(0, end);
    end += char.length;
  }
  return text;
}
