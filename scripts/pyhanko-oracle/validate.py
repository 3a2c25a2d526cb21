"""pyHanko's verdicts on signed PDFs, for the second oracle of issue 14.

    python validate.py FILE...

Prints one JSON object per file on stdout:
    {"file": path, "error": null | text,
     "signatures": [{"field", "kind", "intact", "valid", "coverage", "modificationLevel",
                     "docmdpOk", "error"}]}

No trust roots and no network: only integrity (digest and signature), coverage and the
difference analysis (pyHanko's DEFAULT_DIFF_POLICY) are asked for; trust is out of scope.
"""

import json
import logging
import sys

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

logging.disable(logging.CRITICAL)


def short(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"[:300]


def judge(emb) -> dict:
    out = {
        "field": emb.field_name,
        "kind": "document-timestamp" if emb.sig_object_type == "/DocTimeStamp" else "signature",
        "intact": None,
        "valid": None,
        "coverage": None,
        "modificationLevel": None,
        "docmdpOk": None,
        "error": None,
    }
    vc = ValidationContext(trust_roots=[], allow_fetching=False)
    try:
        if out["kind"] == "document-timestamp":
            status = validate_pdf_timestamp(emb, validation_context=vc)
        else:
            status = validate_pdf_signature(emb, signer_validation_context=vc)
    except Exception as e:  # pyHanko refuses the signature outright (e.g. a malformed ByteRange)
        out["error"] = short(e)
        return out
    out["intact"] = bool(status.intact)
    out["valid"] = bool(status.valid)
    out["coverage"] = status.coverage.name if status.coverage is not None else None
    level = status.modification_level
    out["modificationLevel"] = level.name if level is not None else None
    out["docmdpOk"] = status.docmdp_ok
    return out


def main(files):
    for path in files:
        rec = {"file": path, "error": None, "signatures": []}
        try:
            with open(path, "rb") as f:
                reader = PdfFileReader(f, strict=False)
                if reader.encrypted:
                    reader.decrypt("")
                for emb in reader.embedded_signatures:
                    rec["signatures"].append(judge(emb))
        except Exception as e:
            rec["error"] = short(e)
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
