/**
 * zod building blocks for INI option values. Every value arrives as a string (or is absent);
 * these helpers parse it the way upstream's goconf getters do. An empty value counts as absent
 * everywhere (upstream ignores the getter's error and falls back to the default).
 *
 * Deliberate difference: a value upstream cannot parse (`timeout = ten`, `debug = maybe`) is an
 * error here; upstream silently used the default, which hides typos.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

/** goconf `BoolStrings` (compared case-insensitively). */
export const GOCONF_BOOLEANS: Readonly<Record<string, boolean>> = Object.freeze({
  t: true, true: true, y: true, yes: true, on: true, '1': true,
  f: false, false: false, n: false, no: false, off: false, '0': false,
});

/** A string option; absent or empty yields `defaultValue`. */
export function stringOption(defaultValue = '') {
  return z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw === '' ? defaultValue : raw));
}

/** A boolean option parsed like goconf `GetBool`. */
export function boolOption(defaultValue = false) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return defaultValue;
      const parsed = GOCONF_BOOLEANS[raw.toLowerCase()];
      if (parsed === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${raw}" is not a boolean (use true/false, yes/no, on/off, 1/0)` });
        return z.NEVER;
      }
      return parsed;
    });
}

/**
 * How upstream treats an integer outside the useful range: `positive` — a value ≤ 0 means the
 * default (timeouts, bitrates of `[mcu]`); `nonNegative` — a value < 0 means the default
 * (session limits, per-backend bitrates).
 */
export type IntRange = 'positive' | 'nonNegative';

/** An integer option parsed like goconf `GetInt` (Go `strconv.Atoi`: optional sign, decimal). */
export function intOption(defaultValue: number, range: IntRange) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return defaultValue;
      const value = /^[+-]?[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(value)) {
        ctx.addIssue({ code: 'custom', message: `"${raw}" is not an integer` });
        return z.NEVER;
      }
      if (range === 'positive' ? value <= 0 : value < 0) return defaultValue;
      return value;
    });
}

/**
 * A list option. `comma`: split at `,` (upstream `strings.Split(s, ",")` + trim + drop empty);
 * `space`: split at blanks (upstream splits at single spaces; any run of whitespace here).
 */
export function listOption(separator: 'comma' | 'space', defaultValue: readonly string[] = []) {
  return z
    .string()
    .optional()
    .transform((raw) => {
      const entries = splitEntries(raw ?? '', separator);
      return entries.length > 0 ? entries : [...defaultValue];
    });
}

/** Splits a list value (see {@link listOption}). */
export function splitEntries(raw: string, separator: 'comma' | 'space'): string[] {
  return raw
    .split(separator === 'comma' ? ',' : /\s+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** An option with a fixed set of values (case-sensitive, as upstream compares them). */
export function enumOption<const T extends string>(values: readonly T[], defaultValue: T, what: string) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      if (raw === undefined || raw === '') return defaultValue;
      if ((values as readonly string[]).includes(raw)) return raw as T;
      ctx.addIssue({ code: 'custom', message: `unknown ${what} "${raw}" (expected ${values.filter((v) => v !== '').map((v) => `"${v}"`).join(' or ')})` });
      return z.NEVER;
    });
}

/**
 * Whether `entry` is an IP address or CIDR network as Go's `net.ParseIP` / `net.ParseCIDR`
 * accept them (upstream `parseIPNet`: a `/` selects CIDR parsing).
 */
export function isIpOrCidr(entry: string): boolean {
  const slash = entry.indexOf('/');
  if (slash === -1) return isIP(entry) !== 0;
  const address = entry.slice(0, slash);
  const prefix = entry.slice(slash + 1);
  const family = isIP(address);
  if (family === 0 || !/^[0-9]+$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** A comma list of IP addresses / CIDR networks (upstream `ParseAllowedIps`; invalid is fatal). */
export function ipListOption() {
  return listOption('comma').superRefine((entries, ctx) => {
    for (const entry of entries) {
      if (!isIpOrCidr(entry)) ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address or CIDR network` });
    }
  });
}
