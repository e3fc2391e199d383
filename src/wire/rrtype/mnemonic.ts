// Every RR type mnemonic IANA lists (data, meta and query types), for zone files, queries and output.

/** Code → mnemonic; the IANA "Resource Record (RR) TYPEs" registry, obsolete types included. */
export const TYPE_MNEMONICS: ReadonlyMap<number, string> = new Map<number, string>([
  [1, 'A'], [2, 'NS'], [3, 'MD'], [4, 'MF'], [5, 'CNAME'], [6, 'SOA'], [7, 'MB'], [8, 'MG'], [9, 'MR'],
  [10, 'NULL'], [11, 'WKS'], [12, 'PTR'], [13, 'HINFO'], [14, 'MINFO'], [15, 'MX'], [16, 'TXT'], [17, 'RP'],
  [18, 'AFSDB'], [19, 'X25'], [20, 'ISDN'], [21, 'RT'], [22, 'NSAP'], [23, 'NSAP-PTR'], [24, 'SIG'], [25, 'KEY'],
  [26, 'PX'], [27, 'GPOS'], [28, 'AAAA'], [29, 'LOC'], [30, 'NXT'], [31, 'EID'], [32, 'NIMLOC'], [33, 'SRV'],
  [34, 'ATMA'], [35, 'NAPTR'], [36, 'KX'], [37, 'CERT'], [38, 'A6'], [39, 'DNAME'], [40, 'SINK'], [41, 'OPT'],
  [42, 'APL'], [43, 'DS'], [44, 'SSHFP'], [45, 'IPSECKEY'], [46, 'RRSIG'], [47, 'NSEC'], [48, 'DNSKEY'],
  [49, 'DHCID'], [50, 'NSEC3'], [51, 'NSEC3PARAM'], [52, 'TLSA'], [53, 'SMIMEA'], [55, 'HIP'], [56, 'NINFO'],
  [57, 'RKEY'], [58, 'TALINK'], [59, 'CDS'], [60, 'CDNSKEY'], [61, 'OPENPGPKEY'], [62, 'CSYNC'], [63, 'ZONEMD'],
  [64, 'SVCB'], [65, 'HTTPS'], [66, 'DSYNC'], [99, 'SPF'], [100, 'UINFO'], [101, 'UID'], [102, 'GID'],
  [103, 'UNSPEC'], [104, 'NID'], [105, 'L32'], [106, 'L64'], [107, 'LP'], [108, 'EUI48'], [109, 'EUI64'],
  [128, 'NXNAME'], [249, 'TKEY'], [250, 'TSIG'], [251, 'IXFR'], [252, 'AXFR'], [253, 'MAILB'], [254, 'MAILA'],
  [255, 'ANY'], [256, 'URI'], [257, 'CAA'], [258, 'AVC'], [259, 'DOA'], [260, 'AMTRELAY'], [261, 'RESINFO'],
  [262, 'WALLET'], [263, 'CLA'], [264, 'IPN'], [32768, 'TA'], [32769, 'DLV'],
]);

const BY_NAME = new Map<string, number>();
for (const [code, name] of TYPE_MNEMONICS) BY_NAME.set(name, code);

/** The mnemonic, or TYPEnnn (RFC 3597 §5) for a code without one. */
export function typeMnemonic(code: number): string {
  return TYPE_MNEMONICS.get(code) ?? `TYPE${code}`;
}

/** A mnemonic (any case) or TYPEnnn to its code; undefined when neither. */
export function typeFromMnemonic(text: string): number | undefined {
  const upper = text.toUpperCase();
  const code = BY_NAME.get(upper);
  if (code !== undefined) return code;
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  if (m) {
    const n = Number(m[1]);
    return n <= 0xffff ? n : undefined;
  }
  return undefined;
}

/** All mnemonics, for near-miss suggestions in error messages. */
export function typeMnemonics(): IterableIterator<string> {
  return BY_NAME.keys();
}
