#!/usr/bin/env python3
"""Regenerates the reference tables served at GET /v1/reference/{table}.

Sources: ISO 3166 / ISO 4217 via the `pycountry` package, ITU calling codes via `phonenumbers`,
and the upstream appendix values recorded in docs/platform.md §7 (vendor-specific
entries, such as China's country code CNH, are marked). Run: pip install pycountry phonenumbers && ./generate.py
"""
import json, pycountry, phonenumbers

def dump(name, rows, note):
    with open(f"{name}.json", "w") as f:
        json.dump({"table": name, "note": note, "data": rows}, f, indent=1, ensure_ascii=False)
        f.write("\n")

ZERO = {"BIF","CLP","DJF","GNF","ISK","JPY","KMF","KRW","PYG","RWF","UGX","UYI","VND","VUV","XAF","XOF","XPF"}
THREE = {"BHD","IQD","JOD","KWD","LYD","OMR","TND"}
cur = [{"code": c.alpha_3, "name": c.name, "minor_units": 0 if c.alpha_3 in ZERO else 3 if c.alpha_3 in THREE else 2}
       for c in pycountry.currencies if not c.alpha_3.startswith("X") or c.alpha_3 in ("XAF","XOF","XPF","XCD")]
cur.append({"code": "CNH", "name": "Chinese Yuan (offshore)", "minor_units": 2})
cur.append({"code": "USDT", "name": "Tether (digital currency; DPT routes only)", "minor_units": 6})
dump("currencies", sorted(cur, key=lambda r: r["code"]), "ISO 4217 plus CNH and USDT, which the upstream uses (docs/platform.md §7.4)")

countries = []
for c in pycountry.countries:
    vendor = "CNH" if c.alpha_3 == "CHN" else c.alpha_3
    countries.append({"code": c.alpha_3, "alpha2": c.alpha_2, "name": c.name, "upstream_code": vendor})
dump("countries", sorted(countries, key=lambda r: r["code"]),
     "ISO 3166-1; `upstream_code` is what the platform expects (alpha-3, but CNH for China — docs/platform.md §7.4)")

prefixes = []
for code, regions in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()):
    names = [pycountry.countries.get(alpha_2=r).name for r in regions if pycountry.countries.get(alpha_2=r)]
    if names:
        prefixes.append({"prefix": str(code), "countries": names})
dump("mobile-prefixes", prefixes, "ITU country calling codes, digits only without '+', as the platform expects (docs/platform.md §7.4)")

states = [{"code": s.code.split("-")[1], "name": s.name, "type": s.type}
          for s in pycountry.subdivisions.get(country_code="US")]
dump("us-states", sorted(states, key=lambda r: r["code"]), "USPS two-letter codes (docs/platform.md §7.4)")

tt = [
    {"code": "1", "name": "consumption", "source": "SIBLING R3"},
    {"code": "2", "name": "reversal", "source": "SIBLING R3"},
    {"code": "3", "name": "refund", "source": "SIBLING R3"},
    {"code": "4", "name": "clearing difference", "source": "SIBLING R3"},
    {"code": "5", "name": "capture after reversal", "source": "SIBLING R3"},
    {"code": "7", "name": "forced clearing", "source": "SIBLING R3"},
    {"code": "AUTH", "name": "authorization / consumption", "source": "SIBLING R2/R4"},
    {"code": "REVERSAL", "name": "reversal", "source": "SIBLING R2/R4"},
    {"code": "REFUND", "name": "refund", "source": "SIBLING R2/R4"},
    {"code": "FEE", "name": "fee", "source": "SIBLING R2/R4"},
    {"code": "FEE_REVERSAL", "name": "fee reversal", "source": "SIBLING R2/R4"},
    {"code": "ORIGINAL_CREDIT", "name": "original credit (OCT refund)", "source": "SIBLING R2/R4"},
    {"code": "ORIGINAL_CREDIT_REVERSAL", "name": "original credit reversal", "source": "SIBLING R2/R4"},
]
dump("transaction-types", tt, "The platform's own list was not found; both sibling code sets are accepted (docs/platform.md §7.2)")

rc = [("000000","success"),("100001","account exception"),("200001","invalid card"),("200002","insufficient balance"),
      ("200003","invalid CVV"),("200004","invalid expiry date"),("200005","invalid currency"),("200006","not a multi-use card"),
      ("200007","limit exceeded"),("200008","card exception"),("200009","transaction count or amount limit exceeded"),
      ("300001","invalid merchant"),("400001","high-risk transaction"),("400002","invalid amount"),("400003","invalid transaction"),
      ("400004","transaction not found"),("400005","invalid transaction status"),("400006","unsupported transaction type"),
      ("400007","timeout"),("400008","risk-control rejection"),("400009","channel interception"),("400010","refund limit exceeded"),
      ("400011","frequent authorization"),("400012","decision rejection"),("999998","system upgrade"),("999999","unknown exception")]
dump("response-codes", [{"code": c, "description": d} for c, d in rc], "Transaction response codes (SIBLING R2; docs/platform.md §7.3)")
