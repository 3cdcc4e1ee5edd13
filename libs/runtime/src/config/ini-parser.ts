/**
 * Reader for the INI dialect of upstream's configuration files.
 *
 * Upstream reads `server.conf` with `github.com/dlintw/goconf` (commit dcc0709, the version
 * pinned in upstream's go.mod). This module reproduces what that reader does, line by line
 * (goconf `read.go` / `get.go`):
 *
 * - Each line is trimmed (Go `strings.TrimSpace`); empty lines are skipped.
 * - Lines starting with `#` or `;`, and lines whose first three characters are `rem`
 *   (any case, "for windows users" — so `remote = x` is a comment too!) are comments.
 * - `[name]` (the whole trimmed line) starts a section; the name is trimmed and lower-cased.
 *   `[a] # note` is *not* a section header. Repeated sections are merged.
 * - Before the first header, options go to the section `default`.
 * - `key = value` or `key: value`: split at the first `=` or `:` (whichever comes first, so a key
 *   cannot contain either — an IPv6 address as a `[geoip-overrides]` key does not work upstream
 *   either). Keys are trimmed and lower-cased; values keep their case.
 * - Inline comments: the value is cut at the first ` #`, `\t#`, ` ;` or `\t;` (a comment
 *   character preceded by a blank); `abc#def` stays intact. Then the value is trimmed.
 * - A line without `=`/`:` after an option in the same section continues that option's value
 *   (joined with `\n`), even across blank and comment lines; anywhere else it is a syntax error.
 * - A repeated key overwrites the earlier value (last one wins).
 * - `%(name)s` in a value is replaced by option `name` of the same section or of `default`
 *   (up to 200 rounds); a reference to a missing or empty option makes goconf report the whole
 *   option as missing. See {@link getIniString}.
 *
 * Deliberate differences: all syntax errors are collected instead of stopping at the first one,
 * and a UTF-8 byte order mark at the start is ignored (goconf would reject the first line).
 */

/** Name of the implicit section for options before the first header (goconf `DefaultSection`). */
export const DEFAULT_SECTION = 'default';

/** Maximum rounds of `%(name)s` unfolding (goconf `DepthValues`). */
export const MAX_UNFOLD_DEPTH = 200;

/** One option as read from the file. */
export interface IniOption {
  /** Raw value (inline comments removed, trimmed, continuation lines joined with `\n`). */
  readonly value: string;
  /** 1-based line of the (last) definition of the key. */
  readonly line: number;
}

/** One section as read from the file. */
export interface IniSection {
  /** Lower-cased section name. */
  readonly name: string;
  /** 1-based line of the first header of this section (0 for the implicit `default`). */
  readonly line: number;
  /** Options by lower-cased key. */
  readonly options: Map<string, IniOption>;
}

/** Result of {@link parseIni}. */
export interface ParsedIni {
  /** Sections by lower-cased name; `default` always exists. */
  readonly sections: Map<string, IniSection>;
  /** Lines goconf would refuse (each names its line); the file is unusable if non-empty. */
  readonly errors: string[];
  /** Things goconf accepts silently but an operator probably did not mean. */
  readonly warnings: string[];
}

/**
 * Characters Go's `unicode.IsSpace` accepts. Differs from JS `\s`: includes U+0085, excludes
 * U+FEFF.
 */
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');

/** Go `strings.TrimSpace`. */
export function goTrimSpace(s: string): string {
  return s.replace(GO_TRIM, '');
}

/** goconf `stripComments`: cut at the first blank-preceded `;` or `#`. */
function stripComments(value: string): string {
  let cut = value.length;
  for (const marker of [' ;', '\t;', ' #', '\t#']) {
    const index = value.indexOf(marker);
    if (index !== -1 && index < cut) cut = index;
  }
  return value.slice(0, cut);
}

function ensureSection(sections: Map<string, IniSection>, name: string, line: number): IniSection {
  let section = sections.get(name);
  if (!section) {
    section = { name, line, options: new Map() };
    sections.set(name, section);
  }
  return section;
}

/** Parses INI text the way goconf does (see the module comment). Never throws. */
export function parseIni(text: string): ParsedIni {
  const sections = new Map<string, IniSection>();
  const errors: string[] = [];
  const warnings: string[] = [];
  ensureSection(sections, DEFAULT_SECTION, 0);

  if (text.startsWith('\uFEFF')) {
    text = text.slice(1);
    warnings.push('line 1: ignoring the UTF-8 byte order mark at the start of the file');
  }

  let section: IniSection | undefined = sections.get(DEFAULT_SECTION);
  let option = '';
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const l = goTrimSpace(lines[index] ?? '');
    if (l.length === 0 || l[0] === '#' || l[0] === ';') continue;
    if (l.slice(0, 3).toLowerCase() === 'rem') {
      if (/[=:]/.test(l)) {
        warnings.push(`line ${lineNo}: "${l}" starts with "rem" and is therefore a comment (as in goconf), not an option`);
      }
      continue;
    }
    if (l[0] === '[' && l[l.length - 1] === ']') {
      option = '';
      const name = goTrimSpace(l.slice(1, -1)).toLowerCase();
      section = name === '' ? undefined : ensureSection(sections, name, lineNo);
      if (name === '') errors.push(`line ${lineNo}: empty section name "[]"`);
      continue;
    }
    if (!section) {
      errors.push(`line ${lineNo}: option "${l}" follows an empty section name`);
      continue;
    }
    const separator = l.search(/[=:]/);
    if (separator > 0) {
      option = goTrimSpace(l.slice(0, separator)).toLowerCase();
      const value = goTrimSpace(stripComments(l.slice(separator + 1)));
      const previous = section.options.get(option);
      if (previous) {
        warnings.push(
          `[${section.name}] ${option} (line ${lineNo}): set again, overriding the value from line ${previous.line} (last one wins)`,
        );
      }
      section.options.set(option, { value, line: lineNo });
    } else if (option !== '') {
      const previous = section.options.get(option);
      const continued = goTrimSpace(stripComments(l));
      section.options.set(option, { value: `${previous?.value ?? ''}\n${continued}`, line: previous?.line ?? lineNo });
      warnings.push(
        `[${section.name}] ${option} (line ${lineNo}): "${l}" has no "=" and continues the value of "${option}" (goconf multi-line value)`,
      );
    } else {
      errors.push(`line ${lineNo}: could not parse "${l}" (expected "[section]", "key = value" or a comment)`);
    }
  }
  return { sections, errors, warnings };
}

const UNFOLD_PATTERN = /%\(([a-zA-Z0-9_.-]+)\)s/;

/** Result of {@link getIniString}. */
export type IniLookup =
  | { readonly found: true; readonly value: string; readonly line: number }
  | { readonly found: false; readonly reason?: string; readonly line?: number };

/**
 * goconf `GetString`: the option of exactly that section (no fallback to `default` for the value
 * itself), with `%(name)s` references unfolded from the same section or `default`. A reference to
 * a missing/empty option, or a cycle, makes the option count as missing (upstream then uses its
 * default); `reason` says why.
 */
export function getIniString(ini: ParsedIni, sectionName: string, key: string): IniLookup {
  const section = ini.sections.get(sectionName.toLowerCase());
  const option = section?.options.get(key.toLowerCase());
  if (!section || !option) return { found: false };
  const defaults = ini.sections.get(DEFAULT_SECTION);
  let value = option.value;
  for (let depth = 0; depth < MAX_UNFOLD_DEPTH; depth++) {
    const match = UNFOLD_PATTERN.exec(value);
    if (!match) return { found: true, value, line: option.line };
    const name = (match[1] ?? '').toLowerCase();
    const replacement = section.options.get(name)?.value ?? defaults?.options.get(name)?.value ?? '';
    if (replacement === '') {
      return { found: false, line: option.line, reason: `refers to "%(${name})s", which is not set; the option is ignored (as in goconf)` };
    }
    value = value.slice(0, match.index) + replacement + value.slice(match.index + match[0].length);
  }
  return { found: false, line: option.line, reason: `"%(...)s" references nest deeper than ${MAX_UNFOLD_DEPTH} (a cycle?); the option is ignored` };
}
