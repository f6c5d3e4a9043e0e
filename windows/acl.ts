/**
 * The access the product sets on what it creates, as SDDL. Only the DACL ("D:...") is compared when
 * reading back: Windows may report owner and group in its own way.
 */

/** SYSTEM and Administrators full control, inheritance from the parent removed (transcripts, state). */
export const SYSTEM_AND_ADMINISTRATORS_ONLY = 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)';

/** The DACL part of an SDDL string, or null. */
export function daclOf(sddl: string | null): string | null {
  if (!sddl) return null;
  const start = sddl.indexOf('D:');
  if (start < 0) return null;
  const rest = sddl.slice(start);
  const saclStart = rest.indexOf('S:', 2);
  return saclStart < 0 ? rest : rest.slice(0, saclStart);
}
