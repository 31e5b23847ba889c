"""Parsing BPMN/DMN into SpiffWorkflow specs, and XSD validation with one schema per thread.

lxml's XMLSchema objects keep their error log on the object, so the library's one shared
validator gives mixed-up answers when two threads validate at once: each thread gets its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD, SpiffBpmnParser

from xueji.engine.calls import ExternalCallActivity, ExternalCallActivityParser
from xueji.engine.namespaces import BPMN, DMN

_local = threading.local()


@dataclass(frozen=True)
class SchemaError:
    line: int | None
    message: str


def _bpmn_schema() -> etree.XMLSchema:
    schema = getattr(_local, "bpmn", None)
    if schema is None:
        with open(XSD_PATH, "rb") as xsd:
            doc = etree.parse(xsd)
        doc.getroot().insert(
            0,
            etree.Element(
                "{http://www.w3.org/2001/XMLSchema}import",
                namespace="http://spiffworkflow.org/bpmn/schema/1.0/core",
                schemaLocation=SPIFF_XSD,
            ),
        )
        # The XSD is our own file; it needs its includes, which lie beside it.
        doc.docinfo.URL = XSD_PATH
        schema = _local.bpmn = etree.XMLSchema(doc)
    return schema


def _dmn_schema(namespace: str) -> etree.XMLSchema | None:
    cache = getattr(_local, "dmn", None)
    if cache is None:
        cache = _local.dmn = {}
    if namespace not in cache:
        path = DMN_SCHEMAS.get(namespace)
        cache[namespace] = etree.XMLSchema(etree.parse(path)) if path else None
    return cache[namespace]


def document_kind(root: etree._Element) -> str | None:
    """'bpmn', 'dmn', or None for a document of neither kind."""
    qname = etree.QName(root)
    if qname.localname != "definitions":
        return None
    if qname.namespace == BPMN:
        return "bpmn"
    if qname.namespace in DMN:
        return "dmn"
    return None


def schema_errors(root: etree._Element) -> list[SchemaError]:
    """Every XSD violation of a BPMN or DMN document (not just the first)."""
    if document_kind(root) == "bpmn":
        schema = _bpmn_schema()
    else:
        schema = _dmn_schema(etree.QName(root).namespace)
        if schema is None:
            return []
    if schema.validate(root):
        return []
    return [SchemaError(e.line or None, e.message) for e in schema.error_log]


class XuejiParser(SpiffBpmnParser):
    """SpiffBpmnParser fed only with trees from our hardened parser; XSD checked separately.

    Call activities run as child instances (engine/calls.py), not inside the caller's state.
    """

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("callActivity"): (ExternalCallActivityParser, ExternalCallActivity),
    }

    def __init__(self):
        super().__init__(validator=None)

    def add_document(self, root: etree._Element, file_name: str) -> None:
        if document_kind(root) == "dmn":
            self.add_dmn_xml(root, filename=file_name)
        else:
            self.add_bpmn_xml(root, filename=file_name)


def build_specs(process_id: str, documents: list[tuple[str, etree._Element]]):
    """Parse documents and return (spec, subprocess_specs) of one process."""
    parser = XuejiParser()
    for file_name, root in documents:
        parser.add_document(root, file_name)
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
