/** uci's value quoting (show, changes, export, delta files): single quotes, `'` written as `'\''`. */
export function escapeQuotes(s: string): string {
  return s.replace(/'/g, "'\\''");
}

export function quote(s: string): string {
  return `'${escapeQuotes(s)}'`;
}
