/**
 * Dates shown on the site. Formatted in UTC with a fixed locale so the built HTML does not
 * depend on the build machine's time zone or language (a "2025-03-01" front-matter date
 * would otherwise show as 28 February west of Greenwich).
 */
const FORMAT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

export function formatDate(date: Date): string {
  return FORMAT.format(date);
}
