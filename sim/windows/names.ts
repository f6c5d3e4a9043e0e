/**
 * Windows compares names of groups, members, tasks, endpoints, event sources and path segments
 * without regard to case. Both simulated hosts use .NET's OrdinalIgnoreCase: compare the
 * upper-cased UTF-16 code units (names are ASCII in practice, where both agree exactly).
 */

export function sameName(a: string, b: string): boolean {
  return a.toUpperCase() === b.toUpperCase();
}

/** Sort order of every list a simulated operation returns (OrdinalIgnoreCase). */
export function compareNames(a: string, b: string): number {
  const upperA = a.toUpperCase();
  const upperB = b.toUpperCase();
  return upperA < upperB ? -1 : upperA > upperB ? 1 : 0;
}

export function sortNames(names: Iterable<string>): string[] {
  return [...names].sort(compareNames);
}
