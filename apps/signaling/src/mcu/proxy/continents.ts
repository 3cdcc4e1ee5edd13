/**
 * ISO 3166 country → continent codes (`AF`, `AN`, `AS`, `EU`, `NA`, `OC`, `SA`), used to prefer
 * proxies on the client's continent (fact sheet 5.7 / 7.7). Data: the public "country-codes"
 * dataset (datasets/country-codes on GitHub), which upstream's generated map is built from too.
 */
const BY_CONTINENT: Record<string, string> = {
  AF: 'AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW',
  AN: 'AQ BV GS HM TF',
  AS: 'AE AF AM AZ BD BH BN BT CC CN GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN MO MV MY NP OM PH PK PS QA SA SG SY TH TJ TM TR TW UZ VN YE',
  EU: 'AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA',
  NA: 'AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI PA PM PR SV SX TC TT US VC VG VI',
  OC: 'AS AU CK CX FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TL TO TV UM VU WF WS',
  SA: 'AR BO BR CL CO EC FK GF GY PE PY SR UY VE',
};

const CONTINENTS_OF = new Map<string, string[]>();
for (const [continent, countries] of Object.entries(BY_CONTINENT)) {
  for (const country of countries.split(' ')) {
    const list = CONTINENTS_OF.get(country);
    if (list) list.push(continent);
    else CONTINENTS_OF.set(country, [continent]);
  }
}

/** Continents of an ISO country code (upper case); empty for unknown and pseudo countries. */
export function continentsOf(country: string): readonly string[] {
  return CONTINENTS_OF.get(country) ?? [];
}

/**
 * A usable country code: two letters A–Z. GeoIP pseudo countries (`loopback`, `no-country`,
 * `unknown-country`) and anything else are not (upstream `IsValidCountry`).
 */
export function isValidCountry(country: string | undefined): country is string {
  return country !== undefined && /^[A-Z]{2}$/.test(country);
}
