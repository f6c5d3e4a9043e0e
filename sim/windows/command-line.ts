/**
 * Splits a Windows command line's arguments the way the C runtime (and CommandLineToArgvW) does,
 * so the simulated Task Scheduler hands our agent the same argv a real node would:
 * - spaces and tabs separate arguments outside double quotes;
 * - 2n backslashes before `"` give n backslashes and the quote opens or closes quoting;
 *   2n+1 backslashes before `"` give n backslashes and a literal `"`;
 * - backslashes not before `"` are literal;
 * - inside quotes, `""` is a literal `"` (the C runtime since 2008).
 */
export function splitWindowsArguments(commandLine: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArgument = false;
  let quoted = false;
  for (let i = 0; i < commandLine.length; i++) {
    const char = commandLine[i];
    if (char === '\\') {
      let slashes = 0;
      while (commandLine[i] === '\\') {
        slashes++;
        i++;
      }
      if (commandLine[i] === '"') {
        current += '\\'.repeat(Math.floor(slashes / 2));
        if (slashes % 2 === 1) current += '"';
        else i--; // the quote is handled as a quote on the next turn
      } else {
        current += '\\'.repeat(slashes);
        i--;
      }
      inArgument = true;
    } else if (char === '"') {
      if (quoted && commandLine[i + 1] === '"') {
        current += '"';
        i++;
      } else {
        quoted = !quoted;
      }
      inArgument = true;
    } else if ((char === ' ' || char === '\t') && !quoted) {
      if (inArgument) args.push(current);
      current = '';
      inArgument = false;
    } else {
      current += char;
      inArgument = true;
    }
  }
  if (inArgument) args.push(current);
  return args;
}
