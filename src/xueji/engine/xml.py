"""The one way xueji reads XML: no DOCTYPE, no entities, no network, no huge trees."""

from __future__ import annotations

import re

from lxml import etree

# Cheap first line of defence for ASCII-compatible encodings; the docinfo check below
# catches the rest (e.g. UTF-16) after a parse that resolves nothing.
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class XmlRefused(ValueError):
    """The document is not XML we accept; `line` is where, when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML bytes and return the root, or raise XmlRefused."""
    if not isinstance(data, bytes):
        raise TypeError("parse_xml takes bytes")
    match = _DOCTYPE.search(data)
    if match:
        line = data.count(b"\n", 0, match.start()) + 1
        raise XmlRefused("DOCTYPE and entity declarations are not allowed", line)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlRefused(f"not well-formed XML: {exc.msg}", exc.lineno) from None
    except ValueError as exc:  # e.g. unsupported encoding declarations
        raise XmlRefused(f"not readable XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlRefused("DOCTYPE and entity declarations are not allowed", 1)
    return root
