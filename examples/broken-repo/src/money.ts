// Money helpers: amounts are integer cents.

/** Adds up amounts in cents. */
export function sum(amounts: readonly number[]): number {
  return amounts.reduce((total, amount) => total + amount, 0);
}

/** The mean of amounts in cents, rounded to a whole cent; 0 for none. */
export function average(amounts: readonly number[]): number {
  return amounts.length === 0 ? 0 : Math.round(sum(amounts) / amounts.length);
}

/** Formats cents as "12.34 EUR". */
export function formatCents(cents: number, currency: string): string {
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  const whole = Math.floor(absolute / 100);
  const fraction = String(absolute % 100).padStart(2, '0');
  return `${sign}${whole}.${fraction} ${currency}`;
}
