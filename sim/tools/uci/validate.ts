/*
 * Name and value rules of util.c (uci_validate_str / uci_validate_text), with the package rule
 * this simulator documents: letters, digits, `_` and `-` only, so a package is always a plain
 * file name inside the config directory.
 */

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function validateStr(s: string, allow: (code: number) => boolean): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnum(c) && c !== 95 && !allow(c)) return false;
  }
  return true;
}

/** Section and option names: letters, digits and `_`. */
export function validateName(s: string): boolean {
  return validateStr(s, () => false);
}

/** Section types: any printable ASCII except space. */
export function validateType(s: string): boolean {
  return validateStr(s, (c) => c >= 33 && c <= 126);
}

export function validatePackage(s: string): boolean {
  return validateStr(s, (c) => c === 45);
}

/** Values: no control characters other than TAB, LF and CR. */
export function validateText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}
