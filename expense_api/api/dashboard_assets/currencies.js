// Currencies in the page: each ISO 4217 currency's fraction digits (the API's table,
// domain/money.digits_table: tests/dashboard/test_dashboard.py holds the two equal), a rate read
// as the API reads it, and an amount converted at a rate exactly as the API converts it (whole
// minor units as BigInt, half up once to the ledger currency's digits; never a float). No
// imports: node runs it alone in the tests.

// Every currency not listed here has 2 fraction digits.
const OTHER_DIGITS = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0,
  UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

export const CURRENCIES = [
  "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN",
  "BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR",
  "FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY",
  "KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU",
  "MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON",
  "RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP",
  "TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAD XAF XCD XCG XOF XPF",
  "YER ZAR ZMW ZWG",
].join(" ").split(" ");

export const isCurrency = (code) => CURRENCIES.includes(code);
export const digitsOf = (code) => OTHER_DIGITS[code] ?? 2;

const MAX_RATE_DIGITS = 12; // significant digits
const MAX_RATE_WHOLE_DIGITS = 9; // below 1,000,000,000

// "1.0842" → { units: 10842n, scale: 4 }; null when the API would refuse it as a rate (not a plain
// positive decimal, 1,000,000,000 or more, more than 12 significant digits).
export function readRate(text) {
  const match = /^([0-9]+)(?:\.([0-9]+))?$/.exec(String(text));
  if (!match) return null;
  const whole = match[1].replace(/^0+/, "");
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  const significant = (whole + fraction).replace(/^0+/, "").replace(/0+$/, "");
  if (!significant || whole.length > MAX_RATE_WHOLE_DIGITS || significant.length > MAX_RATE_DIGITS) {
    return null;
  }
  return { units: BigInt(whole + fraction), scale: fraction.length };
}

// An amount of `minor` units of a currency with `fromDigits` digits, at `rate` (readRate's),
// in whole minor units of one with `toDigits`: the exact product rounded half up once.
export function convertMinor(minor, fromDigits, rate, toDigits) {
  const numerator = minor * rate.units * 10n ** BigInt(toDigits);
  const denominator = 10n ** BigInt(fromDigits + rate.scale);
  return (2n * numerator + denominator) / (2n * denominator);
}
