"""The goAML XSD: loading it (XSD 1.1 processor, or libxml2 for speed), the lengths and feature levels of its
elements, its enumerations, and validation of a report against it."""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

PACKAGE_XSD = Path(__file__).resolve().parent / "xsd" / "goAMLSchema_5.0.1.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"
GOAML_NS = "{http://www.unodc.org/goaml}"


@functools.lru_cache(maxsize=4)
def load_schema(path: str | None = None):
    """The goAML schema as xmlschema.XMLSchema11 (loaded once per process per path)."""
    import xmlschema

    return xmlschema.XMLSchema11(str(path or PACKAGE_XSD))


@functools.lru_cache(maxsize=4)
def _schema_facts(path: str) -> tuple[dict[str, int], dict[str, int], dict[str, str]]:
    """(max length per element name, min length per element name, supportedIn per element name).

    Per name the smallest maxLength over every declaration of that name, so a cut text fits wherever the
    element appears. Named simple types (email_address, iban_type, comments_type) are resolved.
    """
    doc = etree.parse(path)
    root = doc.getroot()

    def facets(simple) -> tuple[int | None, int | None]:
        mx = simple.find(f"{XS}restriction/{XS}maxLength")
        mn = simple.find(f"{XS}restriction/{XS}minLength")
        return (int(mx.get("value")) if mx is not None else None, int(mn.get("value")) if mn is not None else None)

    named = {st.get("name"): facets(st) for st in root.iter(f"{XS}simpleType") if st.get("name")}
    max_len: dict[str, int] = {}
    min_len: dict[str, int] = {}
    supported: dict[str, str] = {}
    for el in root.iter(f"{XS}element"):
        name = el.get("name")
        if not name:
            continue
        simple = el.find(f"{XS}simpleType")
        mx, mn = facets(simple) if simple is not None else named.get((el.get("type") or "").split(":")[-1], (None, None))
        if mx is not None:
            max_len[name] = min(mx, max_len.get(name, mx))
        if mn is not None:
            min_len[name] = max(mn, min_len.get(name, mn))
        level = el.get(f"{GOAML_NS}supportedIn")
        if level:
            supported[name] = max(level, supported.get(name, level))
    return max_len, min_len, supported


def enumeration(schema, type_name: str) -> set[str] | None:
    t = schema.types.get(type_name)
    values = getattr(t, "enumeration", None) if t is not None else None
    return set(values) if values else None


# Constructs that only XSD 1.1 has: a schema without them means the same to an XSD 1.0 processor (libxml2).
XSD11_ONLY = ("xs:assert", "xs:alternative", "openContent", "xs:override", "defaultAttributes", "notQName",
              "notNamespace", "explicitTimezone", "dateTimeStamp", "inheritable")


@functools.lru_cache(maxsize=4)
def load_fast_schema(path: str | None = None):
    """The schema in libxml2 (lxml), or None when it uses XSD 1.1 constructs or libxml2 cannot load it."""
    p = Path(path or PACKAGE_XSD)
    text = p.read_text(encoding="utf-8")
    if any(k in text for k in XSD11_ONLY):
        return None
    try:
        return etree.XMLSchema(etree.parse(str(p), etree.XMLParser(resolve_entities=False, no_network=True)))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError):
        return None


def validate_tree(root, path: Path | str, schema_path: str | None = None, *, validator: str = "auto") -> list[str]:
    """Schema errors of a report built as `root` and written to `path` as to_bytes(root).

    With the "auto" validator libxml2 checks the tree in memory (a report's serialisation parses back to the
    same tree, so this saves parsing the file again: 3 of its 8 ms); anything it rejects, and any other
    validator, goes through validate_file, whose verdict stands.
    """
    if validator == "auto":
        fast = load_fast_schema(schema_path)
        if fast is not None and fast.validate(root.getroottree()):
            return []
    return validate_file(path, schema_path, validator=validator)


def validate_file(path: Path | str, schema_path: str | None = None, *, validator: str = "auto") -> list[str]:
    """Schema errors of one goAML file (empty when valid).

    validator "xmlschema": the XSD 1.1 processor (xmlschema.XMLSchema11), authoritative and slow (~1 s/MB).
    "auto" (default): libxml2 first, which is ~100x faster and equivalent for a schema without XSD 1.1-only
    constructs (checked; the goAML 5.0.1 schema has none, only vc:minVersion="1.1"); a file libxml2 rejects
    is re-checked with xmlschema, whose verdict stands. tests/exports check that both agree.
    """
    if validator == "auto":
        fast = load_fast_schema(schema_path)
        if fast is not None:
            doc = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
            if fast.validate(doc):
                return []
    schema = load_schema(schema_path)
    import xmlschema

    resource = xmlschema.XMLResource(str(path), lazy=True)  # lazy: no element-count limit on large reports
    return [f"{e.path}: {e.reason}" for e in schema.iter_errors(resource)]
